"""The dbt project itself: unit tests for the tricky logic, and the pseudonymization rule."""

from __future__ import annotations

import collections
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.dbt import DBT_PROFILES_DIR, DBT_PROJECT_DIR, dbt_env, dbt_executable, run_dbt
from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.settings import load_settings
from tests.conftest import REPO, build_warehouse


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small demo city, landed and built: unit tests need the parent tables to exist."""
    tmp = tmp_path_factory.mktemp("dbt_project")
    generate(
        DemoConfig(seed=5, start=dt.date(2024, 1, 8), days=5),
        tmp / "landing",
        tmp / "truth.json",
        progress=lambda m: None,
    )
    build_warehouse(tmp / "landing", tmp / "warehouse.duckdb", tmp)
    return tmp


def env_for(tmp, city_dir=None, **extra):
    settings = load_settings(data_dir=tmp, warehouse_path=tmp / "warehouse.duckdb", city_dir=city_dir)
    env = dbt_env(settings, DBT_TARGET_PATH=str(tmp / "target"), DBT_LOG_PATH=str(tmp / "logs"), **extra)
    for name in ("ALT911_DEMO", "ALT911_PERSON_KEY"):
        if name not in extra:
            env.pop(name, None)
    return env


def unit_test_results(tmp) -> dict[str, str]:
    """Status of every unit test the last `dbt test` ran, by name, from its run_results.json."""
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}


def unit_tests_defined() -> set[str]:
    """Every unit test written in the project's YAML."""
    names = set()
    for path in (REPO / "dbt_project" / "models").rglob("*.yml"):
        names |= {t["name"] for t in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])}
    return names


def test_dbt_unit_tests_pass(built):
    out = run_dbt(["test", "--select", "test_type:unit"], env=env_for(built, ALT911_DEMO="true"))
    assert out.returncode == 0, out.stdout[-4000:]
    # every unit test in the YAML ran and passed (eligibility boundary, availability, reasons, ...)
    results = unit_test_results(built)
    assert set(results) == unit_tests_defined() and "an_encounter_with_no_cad_link" in results
    assert set(results.values()) == {"pass"}, results


def test_alt911_dbt_logs_what_dbt_logs_and_skips_only_what_no_logger_writes(built):
    """Every dbt step runs `alt911-dbt` (orchestration/dbt_cli.py), which does not build the events below every
    logger's level. At info, what Dagster reads on stdout must be dbt's own, event for event; asked for debug,
    the debug events (each SQL statement) must still come."""

    def events(executable: str, name: str, *extra: str) -> collections.Counter:
        env = {**env_for(built, ALT911_DEMO="true", DBT_LOG_FORMAT="json"), "DBT_TARGET_PATH": str(built / name)}
        # the steps' own file logging (orchestration/assets/transform.py), then the test's
        args = ["build", "--select", "call_origins", "--log-level-file", "info", *extra]
        args += ["--profiles-dir", str(DBT_PROFILES_DIR)]
        out = subprocess.run([executable, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
        lines = [json.loads(line) for line in out.stdout.splitlines() if line[:1] == "{"]
        return collections.Counter(line["info"]["name"] for line in lines)

    assert Path(dbt_executable()).name == "alt911-dbt"  # what the steps run, once the project is installed
    plain = events(str(Path(sys.executable).with_name("dbt")), "target_plain")
    ours = events(dbt_executable(), "target_ours")
    assert ours == plain and ours["LogSeedResult"] == 1 and ours["LogTestResult"] >= 1, (ours, plain)
    assert "SQLQuery" not in ours
    debug = events(dbt_executable(), "target_debug", "--log-level", "debug")
    assert debug["SQLQuery"] >= 2 and debug["LogSeedResult"] == 1, debug


def test_unit_tests_pass_whichever_city_folder_is_in_use(built):
    """The unit tests give the demo program's rules as their inputs, so another city's build runs them too."""
    out = run_dbt(
        ["test", "--select", "test_type:unit"],
        env=env_for(built, city_dir=REPO / "cities" / "eugene", ALT911_DEMO="true"),
    )
    assert out.returncode == 0, out.stdout[-4000:]
    results = unit_test_results(built)
    assert set(results) == unit_tests_defined() and set(results.values()) == {"pass"}, results


def test_staging_tests_judge_what_landed_since_the_last_build_and_every_row_without_a_mark(built, tmp_path):
    """In an incremental build (ALT911_CHANGED_SINCE, the last finished build's mark) the staging models'
    tests judge only rows landed after the mark; without a mark (a full refresh, dbt by hand) every row."""
    shutil.copyfile(built / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    not_null = "not_null_stg_cad__calls_incident_number"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        mark = con.execute("SELECT max(_landed_at) FROM staging.stg_cad__calls").fetchone()[0]
        # a call without an incident number that an earlier build let through (older than the mark) ...
        con.execute(
            "INSERT INTO staging.stg_cad__calls SELECT * REPLACE ('OLD-CALL' AS call_id, NULL AS incident_number, "
            "? AS _landed_at) FROM staging.stg_cad__calls LIMIT 1",
            [mark - dt.timedelta(days=1)],
        )
    since = mark.isoformat(sep=" ")
    env = env_for(tmp_path, ALT911_DEMO="true", ALT911_CHANGED_SINCE=since)
    out = run_dbt(["test", "--select", "stg_cad__calls"], env=env)
    assert out.returncode == 0, out.stdout[-4000:]  # ... is not judged again after the mark

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:  # a new one, landed after the mark
        con.execute(
            "INSERT INTO raw.cad_calls SELECT * REPLACE ('NEW-CALL' AS call_id, NULL AS incident_number, "
            "? AS _landed_at) FROM raw.cad_calls LIMIT 1",
            [mark + dt.timedelta(hours=1)],
        )
    out = run_dbt(["build", "--select", "stg_cad__calls"], env=env)
    assert out.returncode != 0
    assert f"Failure in test {not_null}" in out.stdout and "Got 1 result" in out.stdout, out.stdout[-4000:]

    out = run_dbt(["test", "--select", "stg_cad__calls"], env=env_for(tmp_path, ALT911_DEMO="true"))
    assert out.returncode != 0  # without a mark every row is judged: both calls
    assert f"Failure in test {not_null}" in out.stdout and "Got 2 results" in out.stdout, out.stdout[-4000:]


def test_a_real_run_without_a_key_stops_with_a_clear_message(built):
    out = run_dbt(["run", "--select", "stg_case_management__people"], env=env_for(built))
    assert out.returncode != 0
    assert "ALT911_PERSON_KEY is not set" in out.stdout


def test_person_key_is_a_keyed_hash(built):
    warehouse = built / "warehouse.duckdb"

    def keys():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return dict(
                con.execute("""select r.person_id, s.person_key from raw.cm_people r
                join staging.stg_case_management__people s on true
                where s.person_key = sha256('alt911-test-secret|' || r.person_id)""").fetchall()
            )
        finally:
            con.close()

    # a new key rebuilds the table in full (Dagster does so by itself: the key is in the rules fingerprint)
    out = run_dbt(
        ["run", "--select", "stg_case_management__people", "--full-refresh"],
        env=env_for(built, ALT911_PERSON_KEY="alt911-test-secret"),
    )
    assert out.returncode == 0, out.stdout[-3000:]
    with_key = keys()
    assert with_key and all(k != p and len(k) == 64 for p, k in with_key.items())
    con = duckdb.connect(str(warehouse), read_only=True)
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = 'stg_case_management__people'"
        ).fetchall()
    }
    con.close()
    assert columns == {"person_key", "age_band", "gender", "race_ethnicity", "updated_at", "_landed_at"}


def test_dbt_run_folders_are_pruned_to_the_newest(tmp_path):
    """Every dbt step of a run writes a folder of artifacts and logs (~15 MB); only the newest are kept."""
    import os
    import time

    from orchestration.dbt import prune_run_folders

    runs = tmp_path / "target" / "runs"
    for n in range(14):
        folder = runs / f"dbt_core-run{n:02d}"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
    (tmp_path / "target" / "dbt_core-0a1b2c3-4d5e6f7").mkdir()  # the layout before run folders moved to runs/
    (tmp_path / "target" / "manifest.json").write_text("{}")
    prune_run_folders(keep=10, runs_dir=runs)
    assert sorted(p.name for p in runs.iterdir()) == [f"dbt_core-run{n:02d}" for n in range(4, 14)]
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["manifest.json", "runs"]
    # a folder beyond the count that was written in the last hour may be another run's, still writing
    for name, age in (("dbt_core-busy", 900), ("dbt_metrics-busy", 600)):
        (runs / name).mkdir()
        os.utime(runs / name, (time.time() - age, time.time() - age))
    prune_run_folders(keep=1, runs_dir=runs)
    assert sorted(p.name for p in runs.iterdir()) == ["dbt_core-busy", "dbt_metrics-busy"]
