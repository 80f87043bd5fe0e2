"""Write-audit-publish through real Dagster runs: a good run publishes; bad input fails the right
blocking check with a clear message and the serving copy BI tools read stays byte-for-byte the same."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import dagster as dg
import duckdb
import pytest

from orchestration.__main__ import failed_checks, run_job, write_demo_drops
from orchestration.contract import load_contract
from orchestration.settings import load_settings

DAYS = 0.04  # 15 days: enough for every check, quick enough for CI


def serving_fingerprint(settings) -> dict:
    """Bytes of the serving DuckDB file and of every Parquet export it points to."""
    out = {
        "duckdb": hashlib.sha256(settings.serving_path.read_bytes()).hexdigest(),
        "release": os.readlink(settings.serving_dir / "current"),
    }
    for path in sorted(settings.parquet_dir.iterdir()):
        out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def check_results(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.event_specific_data.asset_key.to_user_string()}:{e.event_specific_data.check_name}": e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def sensor_tick(sensor, instance, cursor, data_dir):
    """One evaluation of a sensor with the warehouse resource of this data folder, as the daemon does."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=warehouse_resource(data_dir)) as context:
        return sensor.evaluate_tick(context)


def schedule_tick(schedule, instance, data_dir):
    when = dt.datetime(2024, 1, 8, 10, tzinfo=dt.UTC)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources=warehouse_resource(data_dir)
    ) as context:
        return schedule.evaluate_tick(context)


def warehouse_resource(data_dir) -> dict:
    from orchestration.assets.resources import Warehouse
    from orchestration.settings import DEMO_CITY_DIR

    return {"warehouse": Warehouse(data_dir=str(data_dir), city_dir=str(DEMO_CITY_DIR))}


def executed_steps(result) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}


@pytest.fixture(scope="module")
def first_publish(tmp_path_factory):
    """One good demo run, published once for the module (a run takes a minute or more on 2 cores)."""
    data_dir = tmp_path_factory.mktemp("published")
    with pytest.MonkeyPatch.context() as mp:
        point_at(mp, data_dir)
        settings = load_settings()
        write_demo_drops(settings, years=DAYS, start=dt.date(2024, 1, 8), progress=lambda m: None)
        result = run_job(settings, "main_job")
    assert result.success, failed_checks(result)
    return data_dir, result


@pytest.fixture()
def published(first_publish, tmp_path, monkeypatch):
    """A data folder of its own where one good demo run has published: a copy of the module's first
    publish (every path the warehouse keeps is relative to the data folder, so a copy runs on as is)."""
    template, result = first_publish
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir, symlinks=True)
    point_at(monkeypatch, data_dir)
    return load_settings(), result


def point_at(monkeypatch, data_dir) -> None:
    monkeypatch.setenv("ALT911_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALT911_DEMO", "true")
    for name in ("ALT911_LANDING_DIR", "ALT911_WAREHOUSE", "ALT911_SERVING_DIR", "ALT911_QUALITY_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_a_good_run_passes_every_gate_and_publishes(published):
    settings, result = published
    checks = check_results(result)
    assert all(c.passed for c in checks.values()), [k for k, c in checks.items() if not c.passed]
    gates = {
        # thresholds: Great Expectations gates
        "raw/cad_unit_assignments:unit_clear_times_recorded",
        "raw/cad_incidents:daily_volume_within_band",
        "marts/fct_incidents:unknown_reason_share_under_limit",
        "marts/fct_encounters:encounters_link_to_cad",
        # reconciliations: dbt tests, which Dagster shows as checks of the model they test
        "marts/mart_eligibility:assert_totals_reconcile_across_marts",
        "marts/mart_kpis:assert_kpis_match_their_marts",
        "marts/fct_incidents:assert_eligibility_flags_consistent",
        "public_marts/pub_incident_volume_monthly:small_cells_suppressed_pub_incident_volume_monthly_incidents__period_start",
        # row rules: the landing contract
        "raw/cad_incidents:landed_cleanly",
    }
    assert gates <= set(checks)
    # the serving copy holds the marts, in a storage version DuckDB 1.x drivers open
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    assert con.execute("select tags from duckdb_databases() where database_name = 'alt911_marts'").fetchone()[0] == {
        "storage_version": "v1.0.0+"
    }
    assert con.execute("select count(*) from marts.mart_kpis").fetchone()[0] > 0
    # every dbt description travels with the published tables, as comments a BI tool shows
    undocumented = con.execute(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name in ('marts', 'public_marts') and comment is null"
    ).fetchall()
    assert undocumented == []
    tables, described = con.execute(
        "select count(*), count(comment) from duckdb_tables() where schema_name in ('marts', 'public_marts')"
    ).fetchone()
    assert tables > 20 and described == tables
    assert (
        con.execute(
            "select count(*) from information_schema.tables where table_schema in ('raw', 'staging', 'land')"
        ).fetchone()[0]
        == 0
    )
    con.close()
    assert (settings.parquet_dir / "mart_eligibility.parquet").exists()
    assert json.loads((settings.serving_dir / "published.json").read_text())["run_id"] == result.run_id
    assert settings.data_docs_index.exists()


def test_a_gate_does_not_fingerprint_the_rows_it_validates(published, monkeypatch):
    """Great Expectations would hash every row it validates, only to label the batch: the runner turns
    that off (it was most of a check's time on ten city-years)."""
    from great_expectations.execution_engine import pandas_execution_engine

    from orchestration.checks.runner import GateRunner

    settings, _ = published

    def refuse(frame):
        raise AssertionError(f"Great Expectations fingerprinted {len(frame)} rows")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    result = GateRunner(settings).run("unit_clear_times_recorded")
    assert result.success and result.rows > 1000, result.message


def test_a_rejected_file_fails_the_landing_check_and_nothing_is_published(published):
    settings, _ = published
    before = serving_fingerprint(settings)
    drop = settings.landing_dir / "2024-02-01"
    drop.mkdir()
    (drop / "cad_calls_20240201.csv").write_text("call_id,incident_number\nC1,I1\n")  # missing columns
    result = run_job(settings, "main_job")
    assert not result.success
    check = check_results(result)["raw/cad_calls:landed_cleanly"]
    assert not check.passed
    assert "cad_calls_20240201.csv" in check.description and "missing column(s)" in check.description
    assert not any(step.startswith(("dbt_", "serving")) for step in executed_steps(result))
    assert serving_fingerprint(settings) == before


def test_a_row_out_of_order_is_quarantined_and_blocks_until_the_data_or_the_limit_changes(published, monkeypatch):
    """A unit that clears before it arrives is quarantined at landing with the reason (it used to land
    and then block publishing at the raw gate); the landing check names the file, line and setting.
    A rerun with nothing new fails the same way (it used to pass and publish); raising the city's
    limit, a recorded setting, lets the rest publish without the bad row."""
    settings, _ = published
    before = serving_fingerprint(settings)
    cols = load_contract().extracts["cad_unit_assignments"].column_names
    drop = settings.landing_dir / "2024-02-02"
    drop.mkdir()
    with open(drop / "cad_unit_assignments_20240202.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerow(
            dict(
                assignment_id="BAD-1",
                incident_number="24-0000001",
                unit_id="P001",
                unit_type="police",
                dispatched_at="2024-01-10T10:00:00-05:00",
                arrived_at="2024-01-10T10:20:00-05:00",
                cleared_at="2024-01-10T10:10:00-05:00",
                unit_disposition="completed",
            )
        )
    result = run_job(settings, "main_job")
    assert not result.success
    check = check_results(result)["raw/cad_unit_assignments:landed_cleanly"]
    assert not check.passed
    assert (
        "2024-02-02/cad_unit_assignments_20240202.csv:2: cleared_at: cleared_at is before arrived_at"
        in check.description
    )
    assert "thresholds.max_quarantine_share" in check.description and "ALT911_MAX_QUARANTINE_SHARE" in check.description
    assert not any(step.startswith(("dbt_", "serving")) for step in executed_steps(result))
    assert serving_fingerprint(settings) == before

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("select count(*) from raw.cad_unit_assignments where assignment_id = 'BAD-1'").fetchone()[0] == 0
    assert con.execute("select count(*) from land.quarantine where record like '%BAD-1%'").fetchone()[0] == 1
    con.close()

    rerun = run_job(settings, "main_job")  # nothing new to land: the state is the same, so is the verdict
    assert not rerun.success and not check_results(rerun)["raw/cad_unit_assignments:landed_cleanly"].passed
    assert serving_fingerprint(settings) == before

    monkeypatch.setenv("ALT911_MAX_QUARANTINE_SHARE", "1.0")  # a person accepts it, in a recorded setting
    accepted = run_job(load_settings(), "main_job")
    assert accepted.success, failed_checks(accepted)
    assert serving_fingerprint(settings) != before


def test_an_incident_level_check_blocks_the_metric_marts(published, monkeypatch):
    settings, _ = published
    before = serving_fingerprint(settings)
    monkeypatch.setenv("ALT911_MIN_LINK_RATE", "0.999")  # the demo city links ~97% of encounters
    result = run_job(load_settings(), "main_job")
    assert not result.success
    check = check_results(result)["marts/fct_encounters:encounters_link_to_cad"]
    assert not check.passed and "is_linked" in check.description
    # the failure names the offending rows and the setting that governs the check
    assert re.search(r"first 20: is_linked=False, encounter_id=E\d+;", check.description), check.description
    assert (
        "Threshold: min_link_rate = 0.999, set in" in check.description
        and "thresholds.min_link_rate" in check.description
    )
    steps = executed_steps(result)
    assert "dbt_core" in steps and "dbt_metrics" not in steps and "serving__published_marts" not in steps
    assert serving_fingerprint(settings) == before


def test_a_failing_column_test_fails_the_dbt_step_and_names_itself(published, monkeypatch, tmp_path):
    """Column-shape dbt tests are not Dagster checks (each check costs event-log writes every run), but a
    failing one still stops the run before publishing and says which test failed."""
    from orchestration.settings import DEMO_CITY_DIR

    settings, _ = published
    before = serving_fingerprint(settings)
    city = tmp_path / "city"
    shutil.copytree(DEMO_CITY_DIR, city)
    call_types = city / "rules" / "call_types.csv"
    lines = call_types.read_text().splitlines()
    call_types.write_text("\n".join([*lines, lines[1]]) + "\n")  # a city's rules file with a row twice
    monkeypatch.setenv("ALT911_CITY_DIR", str(city))
    result = run_job(load_settings(), "main_job")
    assert not result.success
    failures = "\n".join(failed_checks(result))
    assert "step dbt_core failed" in failures and "unique_call_types_call_type" in failures, failures
    assert "serving__published_marts" not in executed_steps(result)
    assert serving_fingerprint(settings) == before


REBUILD = {"ops": {"land_extract_drops": {"config": {"rebuild": True}}}}


def test_a_run_with_nothing_new_skips_building_and_publishing(published, monkeypatch):
    """The hourly schedule mostly finds nothing new: then dbt, the gates and publishing are skipped, the
    serving copy stays byte for byte, and the run says why. A changed setting, a new file or `rebuild`
    builds again."""
    from orchestration.__main__ import published_in

    settings, _ = published
    before = serving_fingerprint(settings)
    idle = run_job(settings, "main_job")
    assert idle.success, failed_checks(idle)
    assert executed_steps(idle) == {"land_extract_drops"} and not published_in(idle)
    assert (
        "nothing new since the release published at"
        in check_results(idle)["raw/cad_incidents:landed_cleanly"].description
    )
    assert serving_fingerprint(settings) == before

    monkeypatch.setenv("ALT911_MAX_UNKNOWN_REASON_SHARE", "0.2")  # a threshold is a rule: build and judge again
    changed = run_job(load_settings(), "main_job")
    assert changed.success and published_in(changed) and {"dbt_core", "dbt_metrics"} <= executed_steps(changed)
    assert serving_fingerprint(settings) != before
    settled = serving_fingerprint(settings)
    assert executed_steps(run_job(load_settings(), "main_job")) == {"land_extract_drops"}

    forced = run_job(load_settings(), "main_job", run_config=REBUILD)
    assert forced.success and published_in(forced) and serving_fingerprint(settings) != settled

    # a late re-send of one incident: landed, built and published
    late = settings.landing_dir / "2024-03-01"
    late.mkdir()
    first_drop = sorted(settings.landing_dir.glob("2024-01-*/cad_incidents_*.csv"))[0]
    lines = first_drop.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (late / "cad_incidents_20240301.csv").write_text(lines[0] + lines[1], encoding="utf-8")
    resent = run_job(load_settings(), "main_job")
    assert resent.success and published_in(resent), failed_checks(resent)


def test_the_rules_fingerprint_follows_the_rules_not_where_files_live(tmp_path, monkeypatch):
    from orchestration.build_state import rules_fingerprint
    from orchestration.settings import DEMO_CITY_DIR

    city = tmp_path / "city"
    shutil.copytree(DEMO_CITY_DIR, city)
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ALT911_CITY_DIR", str(city))
    first = rules_fingerprint(load_settings())
    assert rules_fingerprint(load_settings()) == first
    rule = sorted((city / "rules").glob("*.csv"))[0]
    rule.write_text(rule.read_text() + "\n")
    changed = rules_fingerprint(load_settings())
    assert changed != first
    # a moved data folder and city folder, or another schedule, decide no number: no full rebuild
    shutil.copytree(city, tmp_path / "elsewhere" / "city")
    monkeypatch.setenv("ALT911_CITY_DIR", str(tmp_path / "elsewhere" / "city"))
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path / "elsewhere" / "data"))
    monkeypatch.setenv("ALT911_SCHEDULE_CRON", "*/5 * * * *")
    assert rules_fingerprint(load_settings()) == changed
    monkeypatch.setenv("ALT911_MIN_LINK_RATE", "0.5")  # a threshold decides what is published
    assert rules_fingerprint(load_settings()) != changed


def test_a_reader_holding_the_serving_file_does_not_break_a_run(published):
    settings, _ = published
    reader = duckdb.connect(str(settings.serving_path), read_only=True)
    old_rows = reader.execute("select count(*) from marts.fct_incidents").fetchone()[0]
    result = run_job(settings, "main_job", run_config=REBUILD)  # nothing new to land; rebuilds and republishes
    assert result.success, failed_checks(result)
    assert reader.execute("select count(*) from marts.fct_incidents").fetchone()[0] == old_rows  # still readable
    reader.close()
    assert json.loads((settings.serving_dir / "published.json").read_text())["run_id"] == result.run_id


def test_schedule_and_sensor_ticks(tmp_path, monkeypatch):
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ALT911_LANDING_DIR", raising=False)
    from orchestration.automation import landing_folder_sensor, main_schedule
    from orchestration.definitions import defs

    assert main_schedule.cron_schedule == load_settings().schedule_cron == "0 * * * *"
    with dg.instance_for_test() as instance:
        tick = schedule_tick(main_schedule, instance, tmp_path)
        assert len(tick.run_requests) == 1
        assert defs.resolve_schedule_def("main_schedule").job_name == "main_job"

        first = sensor_tick(landing_folder_sensor, instance, None, tmp_path)
        assert not first.run_requests and "does not exist" in first.skip_message
        drop = tmp_path / "landing" / "2024-01-08"
        drop.mkdir(parents=True)
        (drop / "cad_calls_20240108.csv").write_text("x\n")
        second = sensor_tick(landing_folder_sensor, instance, None, tmp_path)
        assert len(second.run_requests) == 1 and second.cursor
        third = sensor_tick(landing_folder_sensor, instance, second.cursor, tmp_path)
        assert not third.run_requests and "no new" in third.skip_message
        (drop / "cad_incidents_20240108.csv").write_text("y\n")
        fourth = sensor_tick(landing_folder_sensor, instance, second.cursor, tmp_path)
        assert len(fourth.run_requests) == 1 and fourth.run_requests[0].tags["alt911/new_files"] == "1"


def test_the_sensor_waits_for_files_to_settle(tmp_path, monkeypatch):
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ALT911_SETTLE_SECONDS", "3600")
    from orchestration.automation import landing_folder_sensor

    drop = tmp_path / "landing" / "2024-01-08"
    drop.mkdir(parents=True)
    (drop / "cad_calls_20240108.csv").write_text("x\n")
    with dg.instance_for_test() as instance:
        young = sensor_tick(landing_folder_sensor, instance, None, tmp_path)
        assert not young.run_requests and "no new" in young.skip_message
        old = time.time() - 7200
        os.utime(drop / "cad_calls_20240108.csv", (old, old))
        settled = sensor_tick(landing_folder_sensor, instance, young.cursor, tmp_path)
        assert len(settled.run_requests) == 1


def test_a_schedule_tick_recovers_a_crashed_run(tmp_path, monkeypatch):
    """A run killed while holding the warehouse left a child process and a STARTED run behind; the next
    schedule tick (the daemon's, with no run of ours in between) cleans both up."""
    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path))
    from dagster._core.test_utils import create_run_for_test

    from orchestration.automation import main_schedule
    from orchestration.runlock import TOKEN_ENV

    orphan = subprocess.Popen(["sleep", "600"], env={**os.environ, TOKEN_ENV: "dead-run-token"})
    try:
        with dg.instance_for_test() as instance:
            dead = create_run_for_test(instance, job_name="main_job", status=dg.DagsterRunStatus.STARTED)
            (tmp_path / "run.lock").write_text(
                json.dumps(
                    dict(
                        pid=999999,
                        host="h",
                        run_id=dead.run_id,
                        command="land",
                        token="dead-run-token",
                        started_at="earlier",
                    )
                )
            )
            tick = schedule_tick(main_schedule, instance, tmp_path)
            assert len(tick.run_requests) == 1
            assert orphan.wait(timeout=20) == -9  # the dead run's child was killed
            assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
            assert (tmp_path / "run.lock").read_text() == ""  # and the lock names no one now
    finally:
        orphan.kill()
