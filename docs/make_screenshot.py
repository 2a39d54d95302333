"""Make docs/report-screenshot.png: the sample athlete's HTML report in headless Chromium.

    python docs/make_screenshot.py [--out docs/report-screenshot.png]

Imports fixtures/sample-athlete into a temporary store (never your own), writes its HTML
report with the real ``heavylegs`` command, opens it in Chromium with the network cut
off (a proxy address where nothing listens), and keeps the whole page, trimmed and
scaled to a size a repository can carry. Needs Debian's ``chromium``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "sample-athlete"
RANGE = ("--since", "2026-09-28", "--until", "2026-11-22")
WIDTH, TALL, SHOWN_WIDTH = 1280, 7000, 900


def heavylegs(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", *args], env=env, check=True, capture_output=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    from PIL import Image, ImageChops

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "HEAVYLEGS_DB": str(work / "sample.sqlite"),
            "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        }
        heavylegs("import", str(SAMPLE), env=env)
        page = work / "report.html"
        heavylegs("report", *RANGE, "-o", str(page), env=env)
        shot = work / "full.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--hide-scrollbars",
                f"--user-data-dir={work / 'profile'}",
                "--proxy-server=http://127.0.0.1:9",
                f"--window-size={WIDTH},{TALL}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with Image.open(shot) as full:
            image = full.convert("RGB")
        # Trim the empty page below the footer, then scale and reduce the colours.
        background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
        box = ImageChops.difference(image, background).getbbox()
        if box is not None:
            image = image.crop((0, 0, image.width, min(image.height, box[3] + 16)))
        height = round(image.height * SHOWN_WIDTH / image.width)
        image = image.resize((SHOWN_WIDTH, height), Image.Resampling.LANCZOS)
        image.quantize(colors=128).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, {SHOWN_WIDTH}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
