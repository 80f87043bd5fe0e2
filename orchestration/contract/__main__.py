"""`python -m orchestration.contract --render` rewrites docs/extract-contract.md from extracts.yml."""

import argparse

from orchestration.contract import render_markdown
from orchestration.settings import REPO_ROOT

DOC_PATH = REPO_ROOT / "docs" / "extract-contract.md"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--render", action="store_true", help="write docs/extract-contract.md")
args = parser.parse_args()
text = render_markdown()
if args.render:
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
else:
    print(text)
