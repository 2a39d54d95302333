"""The committed fixtures are exactly what the committed generator writes."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import FIXTURES


def test_generator_reproduces_committed_fixtures() -> None:
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
