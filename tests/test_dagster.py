"""Real Dagster runs of the landing assets and of the README's main command."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import dagster as dg
import duckdb

from orchestration.assets.land import land_extract_drops
from orchestration.assets.resources import Warehouse
from orchestration.definitions import defs
from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from tests.conftest import REPO, clean_env

FEW_DAYS = DemoConfig(seed=11, start=dt.date(2024, 1, 8), days=3)


def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ALT911_LANDING_DIR", raising=False)
    monkeypatch.delenv("ALT911_WAREHOUSE", raising=False)
    return {"warehouse": Warehouse(data_dir=str(tmp_path), city_dir=str(REPO / "cities" / "demo"))}


def test_definitions_load_with_layers_wired_in_order():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/cad_incidents", "staging/stg_cad__incidents", "marts/fct_incidents", "marts/mart_kpis"} <= keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    # no demo asset: the generator is not part of the production definitions
    assert groups == {"raw", "reference", "staging", "intermediate", "marts", "public_marts", "serving"}
    # dbt sources are the landing assets: staging hangs off raw
    assert (
        dg.AssetKey(["raw", "cad_incidents"]) in graph.get(dg.AssetKey(["staging", "stg_cad__incidents"])).parent_keys
    )
    assert [j.name for j in defs.jobs] == ["main_job"]
    # publishing waits for every mart, so every blocking check upstream of a mart gates it
    publish = graph.get(dg.AssetKey(["serving", "published_marts"]))
    assert dg.AssetKey(["marts", "mart_kpis"]) in publish.parent_keys
    assert dg.AssetKey(["marts", "fct_incidents"]) in publish.parent_keys


def test_landing_materializes_every_raw_table(monkeypatch, tmp_path):
    resources = _env(monkeypatch, tmp_path)
    truth = generate(FEW_DAYS, tmp_path / "landing", tmp_path / "truth.json", progress=lambda m: None)
    result = dg.materialize([land_extract_drops], instance=dg.DagsterInstance.ephemeral(), resources=resources)
    assert result.success
    mats = {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert len(mats) == 11  # ten extracts and the landing ledger
    incidents = mats["raw/cad_incidents"]
    read = sum(m["rows_read"].value for key, m in mats.items() if key.startswith("raw/"))
    assert mats["land/file_ledger"]["rows_read"].value == read
    assert incidents["rows_read"].value == incidents["rows_loaded"].value + incidents["rows_quarantined"].value
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.cad_incidents").fetchone()[0] == incidents["rows_in_table"].value
    assert truth["incidents"] == incidents["rows_in_table"].value
    assert incidents["dates_landed_utc"].value.startswith("2024-01-0")  # the date range shows in the UI


def test_a_rejected_file_fails_its_landing_check_and_names_the_file(monkeypatch, tmp_path):
    resources = _env(monkeypatch, tmp_path)
    generate(FEW_DAYS, tmp_path / "landing", tmp_path / "truth.json", inject=True, progress=lambda m: None)
    result = dg.materialize(
        [land_extract_drops], instance=dg.DagsterInstance.ephemeral(), resources=resources, raise_on_error=False
    )
    checks = {
        e.event_specific_data.asset_key.path[1]: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert len(checks) == 10
    calls = checks["cad_calls"]
    assert not calls.passed and "missing column(s) 'call_source'" in calls.description
    assert "cad_narratives_" in calls.description  # an unknown extract name fails every table's check
    assert not checks["cm_people"].passed and "wrong encoding" in checks["cm_people"].description


def test_readme_main_command_runs_end_to_end(tmp_path, monkeypatch):
    """`make demo` runs `python -m orchestration demo` (demo drops, then the main job: land, dbt build,
    gates, publish); here on a short period to keep CI fast."""
    env = clean_env(ALT911_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "orchestration", "demo", "--years", "0.02"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "main_job succeeded" in out.stdout
    assert "cad_incidents" in out.stdout and "quarantined" in out.stdout
    assert "Headline metrics" in out.stdout and "Share of eligible incidents served" in out.stdout
    assert "serving/alt911_marts.duckdb" in out.stdout and "data_docs" in out.stdout
    con = duckdb.connect(str(tmp_path / "serving" / "alt911_marts.duckdb"), read_only=True)  # what BI reads
    truth = __import__("json").loads((tmp_path / "demo_truth.json").read_text())
    served = con.execute(
        "select numerator, denominator from marts.mart_kpis "
        "where metric = 'share_of_eligible_served' and period_grain = 'all'"
    ).fetchone()
    share = truth["served"]["share_of_eligible_served"]
    assert served == (share["numerator"], share["denominator"])

    # The run's history: the project's event log (orchestration/event_log.py) wrote the events planned at
    # the run's start as one batch, into the run's database and the index, as Dagster's own storage would.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    instance = dg.DagsterInstance.get()
    assert type(instance.event_log_storage).__name__ == "BatchingSqliteEventLogStorage"
    (run,) = instance.get_runs()
    planned_type = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    in_run = {r.asset_key for r in instance.get_records_for_run(run.run_id, of_type=planned_type, limit=1000).records}
    materialized = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
    ).records
    assert len(in_run) > 50 and {r.asset_key for r in materialized} <= in_run
    for key in in_run:  # the index knows each asset's latest planned run
        assert instance.get_latest_planned_materialization_info(key).run_id == run.run_id, key
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(["marts", "fct_encounters"]), "encounters_link_to_cad"), limit=10
    )
    assert [c.run_id for c in checks] == [run.run_id] and checks[0].status.value == "SUCCEEDED"
    # the column-shape tests are left out of the checks on purpose: dagster-dbt's notice for each one
    # (about 150 event-log writes a run) is filtered (orchestration/assets/transform.py)
    logged = [r.event_log_entry for r in instance.get_records_for_run(run.run_id, limit=5000).records]
    messages = [e.user_message for e in logged if not e.is_dagster_event]
    assert any("Running dbt command" in m for m in messages)
    assert not [m for m in messages if "instead of an `AssetCheckResult`" in m]


def test_main_command_exits_non_zero_when_input_is_bad(tmp_path):
    env = clean_env(ALT911_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "orchestration", "demo", "--years", "0.01", "--inject"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 1
    assert "main_job FAILED" in out.stdout and "landed_cleanly" in out.stdout and "Rejected files (6" in out.stdout
    assert "Nothing was published" in out.stdout


def test_the_demo_never_touches_a_file_it_did_not_write(tmp_path):
    """`make demo` on a data folder holding a real drop refuses, and the drop is left byte for byte."""
    real = tmp_path / "landing" / "2024-05-01" / "cad_incidents_20240501.csv"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"incident_number,received_at\nREAL-1,2024-05-01T08:00:00-04:00\n")
    before = real.read_bytes()
    env = clean_env(ALT911_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "orchestration", "demo", "--years", "0.01"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 2
    assert "holds 1 file(s) the demo did not write (e.g. 2024-05-01/cad_incidents_20240501.csv)" in out.stderr
    assert real.read_bytes() == before and sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [real.name]
