"""Shared fixtures: one small generated city (30 days spanning the citywide expansion on 2023-10-23 and
the fall-back DST night of 2023-11-05), landed once into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.land.loader import land

# Tests land files they wrote a moment ago: no settle time, unless a test sets one (test_reliability.py)
os.environ["ALT911_SETTLE_SECONDS"] = "0"
# Runs in this process build the public site without printing PDF cards (a browser start per card);
# test_site.py prints them, through the demo command, as a user's run does (so does clean_env below)
os.environ["ALT911_SITE_PDF"] = "false"


def pytest_sessionstart(session):
    """dbt's manifest, from which the Dagster definitions load the dbt assets (as `make setup` does).
    Under pytest-xdist only the main process writes it, before it starts the workers."""
    if hasattr(session.config, "workerinput"):
        return
    from orchestration.dbt import prepare_manifest
    from orchestration.settings import load_settings

    prepare_manifest(load_settings())


REPO = Path(__file__).resolve().parent.parent
# real public exports, copied from shared/realdata so a fresh clone tests with nothing beside it
FIXTURES = REPO / "tests" / "fixtures" / "realdata"
SMALL = DemoConfig(seed=7, start=dt.date(2023, 10, 15), days=30)


def clean_env(**settings: str) -> dict[str, str]:
    """The environment for a command a test starts: no ALT911_ setting that an earlier test (or an
    in-process dbt step) left in this process, plus the given ones (and no settle time and no PDF data
    cards unless given: a browser start per card, and a real export spans dozens of quarters)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALT911_")}
    return {**env, "ALT911_SETTLE_SECONDS": "0", "ALT911_SITE_PDF": "false", **settings}


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> dict:
    """Drops, planted truth and a warehouse with everything landed once."""
    root = tmp_path_factory.mktemp("small_city")
    generate(SMALL, root / "landing", root / "truth.json", progress=lambda m: None)
    report = land(root / "landing", root / "warehouse.duckdb", SMALL.city_tz, progress=lambda m: None)
    return dict(
        root=root,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        report=report,
        truth=json.loads((root / "truth.json").read_text()),
    )


@pytest.fixture(scope="session")
def injected_city(tmp_path_factory) -> dict:
    """The same city with every class of bad input planted, landed once."""
    root = tmp_path_factory.mktemp("injected_city")
    cfg = DemoConfig(seed=7, start=dt.date(2023, 10, 15), days=6)
    generate(cfg, root / "landing", root / "truth.json", inject=True, progress=lambda m: None)
    report = land(root / "landing", root / "warehouse.duckdb", cfg.city_tz, progress=lambda m: None)
    return dict(
        root=root,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        report=report,
        truth=json.loads((root / "truth.json").read_text()),
        injections=json.loads((root / "truth_injections.json").read_text()),
    )


def build_warehouse(
    landing: Path, warehouse: Path, tmp: Path, city_tz: str = "America/New_York", city_dir=None, **env
) -> None:
    """Land a folder and run a real `dbt build` (every model and data test) into `warehouse`, with the
    settings of a city folder (the demo city unless given)."""
    from orchestration.dbt import build_args, dbt_env, run_dbt
    from orchestration.land.validate import RowRules
    from orchestration.settings import load_settings

    settings = load_settings(data_dir=tmp, warehouse_path=warehouse, city_tz=city_tz, city_dir=city_dir)
    report = land(landing, warehouse, city_tz, progress=lambda m: None, rules=RowRules.from_settings(settings))
    assert not report.rejected, report.summary()
    env = dbt_env(
        settings, ALT911_DEMO="true", DBT_TARGET_PATH=str(tmp / "target"), DBT_LOG_PATH=str(tmp / "logs"), **env
    )
    out = run_dbt(build_args(), env=env)
    assert out.returncode == 0, out.stdout[-5000:]
