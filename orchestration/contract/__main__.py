"""`python -m orchestration.contract --render` rewrites docs/extract-contract.md and the dbt sources
from extracts.yml."""

import argparse

from orchestration.contract import render_dbt_sources, render_markdown
from orchestration.settings import REPO_ROOT

DOC_PATH = REPO_ROOT / "docs" / "extract-contract.md"
SOURCES_PATH = REPO_ROOT / "dbt_project" / "models" / "staging" / "_sources.yml"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--render", action="store_true", help="write docs/extract-contract.md and the dbt sources")
args = parser.parse_args()
text = render_markdown()
if args.render:
    DOC_PATH.write_text(text, encoding="utf-8")
    SOURCES_PATH.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_PATH.write_text(render_dbt_sources(), encoding="utf-8")
    print(f"wrote {DOC_PATH} and {SOURCES_PATH}")
else:
    print(text)
