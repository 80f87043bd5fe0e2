"""Screenshots of the public site for docs/screenshots/, taken in headless Chromium from the site the
last `make demo` published (data/serving/site): the dashboard, two Major Questions pages and one
quarter's data card in English and Spanish. Run `make screenshots` after `make demo`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
SHOTS = {  # file in docs/screenshots -> page of the site
    "dashboard.png": "index.html",
    "question-reach.png": "questions/reach.html",
    "question-police.png": "questions/police.html",
}


def main() -> int:
    site = Path(os.environ.get("ALT911_DATA_DIR", REPO / "data")) / "serving" / "site"
    if not (site / "index.html").exists():
        print(f"no site at {site}: run `make demo` first", file=sys.stderr)
        return 2
    cards = sorted((site / "cards").glob("*.en.html"))
    shots = {**SHOTS, "card-en.png": f"cards/{cards[0].name}", "card-es.png": f"cards/{cards[0].name[:-8]}.es.html"}
    out = REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("ALT911_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        for name, path in shots.items():
            page.goto((site / path).as_uri())
            page.wait_for_timeout(300)  # let plotly finish drawing
            page.screenshot(path=str(out / name), full_page=name.startswith("card"))
            print(f"{out / name}  <- {path}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
