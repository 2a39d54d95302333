"""The committed fixtures are exactly what the committed generator writes."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import FIXTURES, ROOT


def test_generator_reproduces_committed_fixtures() -> None:
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_generator_judges_by_the_documented_thresholds() -> None:
    """The sample's expectations (fixtures/_gen_expected.py) use docs/rules.md's defaults:
    the generator's own copy, RuleSettings' defaults and the documentation agree."""
    from dataclasses import asdict

    from _gen_plan import RULES

    from heavylegs_sync.config import RuleSettings

    documented = {
        name: float(value) / (100 if percent else 1)
        for name, value, percent in re.findall(
            r"`(\w+)` \((\d+(?:\.\d+)?)(%?)", (ROOT / "docs" / "rules.md").read_text()
        )
    }
    defaults = asdict(RuleSettings())
    generator = asdict(RULES)
    assert generator.pop("peak_week_min_days") == 4  # "four or more of its days"
    assert generator
    for name, value in generator.items():
        assert value == defaults[name], name
        assert documented[name] == value, name
