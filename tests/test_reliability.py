"""Reliability with real processes: two runs at once, a `kill -9` in the middle of dbt or of a publish,
a file still being written while landing runs. Each test reproduces a failure a reliability tester
found (issue 9) and checks the guarantee stated in docs/orchestration.md and docs/landing.md."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.__main__ import write_demo_drops
from orchestration.land.loader import land
from orchestration.runlock import (
    NotAudited,
    assert_audited,
    hold_run_lock,
    processes_with_token,
    record_warehouse_written,
)
from orchestration.serving.publish import publish
from orchestration.settings import load_settings
from tests.conftest import REPO, clean_env

START = dt.date(2024, 1, 8)


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.Popen:
    """`python -m orchestration ...` in its own session (as a scheduler would start it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration", *args],
        cwd=REPO,
        env=clean_env(ALT911_DATA_DIR=str(data_dir), ALT911_DEMO="true", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _lock_info(data_dir: Path) -> dict:
    text = (data_dir / "run.lock").read_text() if (data_dir / "run.lock").exists() else ""
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:  # caught mid-write
        return {}


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _dbt_child(data_dir: Path):
    """(pid, command) of the dbt build a run started, once it runs."""
    token = _lock_info(data_dir).get("token")
    return next(((pid, cmd) for pid, cmd in processes_with_token(token) if "dbt" in cmd and "build" in cmd), None)


def _demo_folder(tmp_path: Path, days: float = 0.04) -> Path:
    settings = load_settings(data_dir=tmp_path)
    write_demo_drops(settings, years=days, start=START, progress=lambda m: None)
    return tmp_path


def _unlinked_encounters(landing: Path, extracted: dt.date) -> int:
    """A later drop of encounters whose incident numbers CAD never had: the link-rate gate must fail."""
    rows = []
    for source in sorted(landing.rglob("cm_encounters_*.csv")):
        with source.open(newline="", encoding="utf-8-sig") as f:
            rows += list(csv.DictReader(f))
    drop = landing / extracted.isoformat()
    drop.mkdir(exist_ok=True)
    with (drop / f"cm_encounters_{extracted:%Y%m%d}.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for n, row in enumerate(rows * 3):
            writer.writerow({**row, "encounter_id": f"X{n:05d}", "incident_number": f"NOPE-{n:05d}"})
    return len(rows) * 3


def test_two_runs_at_once_never_interleave_and_a_gate_failure_is_never_published(tmp_path):
    """Failure 1: two `land` commands interleaved step by step, and run A published unlinked encounters
    that run B's gate had failed. Now the second run waits for the first (or, told not to wait, exits
    naming it); each run publishes only what its own gates passed."""
    data = _demo_folder(tmp_path)
    first = _cli(data, "land")
    holder = _wait_for(lambda: _lock_info(data).get("run_id") and _lock_info(data), 120, "the first run to start")
    assert holder["pid"] == first.pid
    _wait_for(lambda: _dbt_child(data), 240, "the first run's dbt build")  # its landing is over

    # a second run told not to wait says who holds the warehouse and touches nothing
    busy = _cli(data, "land", ALT911_RUN_LOCK_WAIT_SECONDS="0")
    out, err = busy.communicate(timeout=120)
    assert busy.returncode == 3, out + err
    assert "another run is writing the warehouse" in err and f"pid {first.pid}" in err and holder["run_id"] in err
    status = _cli(data, "status")
    out, _ = status.communicate(timeout=120)
    assert f"a run is writing the warehouse now: run {holder['run_id']} (pid {first.pid}" in out

    # bad encounters arrive, and a second run starts while the first is still in dbt: it waits
    _unlinked_encounters(data / "landing", START + dt.timedelta(days=30))
    second = _cli(data, "land", ALT911_RUN_LOCK_WAIT_SECONDS="600")
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, out1[-3000:] + err1[-3000:]
    assert "waiting for run" in out2 + err2 and f"pid {first.pid}" in out2 + err2
    assert second.returncode == 1, out2[-3000:] + err2[-3000:]
    assert "encounters_link_to_cad" in out2 and "Nothing was published" in out2

    # what BI reads is the first run's release, without one unlinked encounter
    published = json.loads((data / "serving" / "published.json").read_text())
    assert published["run_id"] == holder["run_id"]
    con = duckdb.connect(str(data / "serving" / "alt911_marts.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.fct_encounters where encounter_id like 'X%'").fetchone()[0] == 0
    con.close()
    # the two Dagster runs did not overlap
    os.environ["DAGSTER_HOME"] = str(data / "dagster_home")
    instance = dg.DagsterInstance.get()
    runs = sorted(instance.get_run_records(), key=lambda r: r.start_time)
    assert len(runs) == 2 and runs[0].end_time <= runs[1].start_time


def test_a_run_killed_mid_dbt_is_cleaned_up_by_the_next_run(tmp_path):
    """Failure 2: after `kill -9` during dbt, the dead run stayed STARTED with its pool slot, its dbt
    child held the warehouse, and the next run hung. Now the next run recovers and says so."""
    data = _demo_folder(tmp_path)
    doomed = _cli(data, "land")
    pid, cmd = _wait_for(lambda: _dbt_child(data), 240, "the run's dbt build")
    dead_run = _lock_info(data)["run_id"]
    os.kill(doomed.pid, signal.SIGKILL)  # the run's process only: its dbt child lives on, as in the failure
    doomed.communicate(timeout=30)
    assert Path(f"/proc/{pid}").exists(), "the orphaned dbt build should outlive its run"

    started = time.monotonic()
    nxt = _cli(data, "land", ALT911_RUN_LOCK_WAIT_SECONDS="60")
    out, err = nxt.communicate(timeout=600)
    assert nxt.returncode == 0, out[-3000:] + err[-3000:]
    said = out + err
    assert "recovered from a crashed run" in said and dead_run in said
    assert f"stopped its leftover process(es): pid {pid}" in said
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]
    assert time.monotonic() - started < 400
    os.environ["DAGSTER_HOME"] = str(data / "dagster_home")
    instance = dg.DagsterInstance.get()
    assert instance.get_run_by_id(dead_run).status == dg.DagsterRunStatus.FAILURE
    assert json.loads((data / "serving" / "published.json").read_text())["run_id"] != dead_run


def _small_warehouse(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    for schema in ("marts", "public_marts", "reference"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(f"create or replace table marts.mart_x as select range as a from range({rows})")
    con.execute(f"create or replace table public_marts.pub_x as select range as b from range({rows})")
    con.execute("create or replace table reference.codes as select 'x' as code")
    con.close()


def _consistent(serving: Path) -> int:
    """The published DuckDB file, the Parquet folder and published.json belong to one release; returns its rows."""
    release = serving.joinpath("current").resolve()
    assert serving.joinpath("alt911_marts.duckdb").resolve().parent == release
    assert serving.joinpath("parquet").resolve().parent == release
    manifest = json.loads(serving.joinpath("published.json").read_text())
    assert release.name.startswith(manifest["run_id"] + "-")
    con = duckdb.connect(str(serving / "alt911_marts.duckdb"), read_only=True)
    rows = con.execute("select count(*) from marts.mart_x").fetchone()[0]
    parquet = con.execute(f"select count(*) from read_parquet('{serving / 'parquet' / 'mart_x.parquet'}')").fetchone()[
        0
    ]
    con.close()
    assert rows == parquet == manifest["tables"]["marts.mart_x"]
    return rows


def test_a_publish_killed_at_any_moment_leaves_file_and_parquet_in_step(tmp_path):
    """Failure 9: a kill between the DuckDB rename and the Parquet switch left them out of step. Now one
    pointer (serving/current) switches both; a kill at any moment leaves the old release or the new."""
    settings = load_settings(data_dir=tmp_path)
    _small_warehouse(settings.warehouse_path, 1)
    publish(settings, "run-first")
    script = (
        "import sys; from orchestration.serving.publish import publish; "
        "from orchestration.settings import load_settings; publish(load_settings(), sys.argv[1])"
    )

    def start(n: int) -> subprocess.Popen:
        _small_warehouse(settings.warehouse_path, 1000 + n)
        return subprocess.Popen(
            [sys.executable, "-c", script, f"run-{n}"], cwd=REPO, env=clean_env(ALT911_DATA_DIR=str(tmp_path))
        )

    began = time.monotonic()
    assert start(0).wait() == 0  # how long one publish takes here, start-up included
    whole = time.monotonic() - began
    assert _consistent(settings.serving_dir) == 1000
    interrupted = 0
    for n, share in enumerate([0.3, 0.45, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0], start=1):
        proc = start(n)
        time.sleep(whole * share)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        releases = settings.serving_dir / "releases"
        interrupted += any(not (r / "published.json").exists() for r in releases.iterdir())
        _consistent(settings.serving_dir)  # whatever the moment, one whole release is what readers see
    assert interrupted, "no kill landed while a release was being written"
    publish(settings, "run-last")  # what the kills left behind is cleared, and the next publish works
    assert _consistent(settings.serving_dir) == 1009  # run-last publishes the last warehouse written
    releases = sorted(p.name for p in (settings.serving_dir / "releases").iterdir())
    assert any(r.startswith("run-last-") for r in releases) and len(releases) <= 3
    assert not list(settings.serving_dir.glob(".*tmp*"))


def test_publish_refuses_what_this_run_did_not_audit(tmp_path):
    """Publishing copies only the warehouse as this run's gates read it."""
    settings = load_settings(data_dir=tmp_path)
    _small_warehouse(settings.warehouse_path, 3)
    with hold_run_lock(settings, run_id="r1"):
        with pytest.raises(NotAudited, match="materialize the serving copy together with the marts"):
            assert_audited(settings)  # a run that built nothing (e.g. the publish step alone, from the UI)
        record_warehouse_written(settings)
        assert_audited(settings)
        _small_warehouse(settings.warehouse_path, 4)  # written after the gates read it
        with pytest.raises(NotAudited, match="changed after this run's gates read it"):
            assert_audited(settings)


def _slow_writer(path: Path, rows: int, pause: float) -> subprocess.Popen:
    """A real extract job writing a CSV in place, row by row (the wrong way: docs/extract-contract.md)."""
    header = (
        "incident_number,received_at,call_origin,initial_call_type,final_call_type,priority,beat,location_key,"
        "address,weapon_involved,violence_in_progress,medical_need,disposition_code,closed_at"
    )
    code = f"""
import time
with open({str(path)!r}, "w", newline="") as f:
    f.write("{header}\\r\\n")
    for n in range({rows}):
        f.write(f"W{{n:05d}},2024-01-09T08:00:00-05:00,911_dispatch,WELFARE CHECK,,,,,,,,,,"
                "2024-01-09T09:00:00-05:00\\r\\n")
        f.flush()
        time.sleep({pause})
"""
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_file_still_being_written_waits_for_the_next_run(tmp_path):
    """Failure 6: a file still being written landed (68,001 of 200,000 rows published). Now a file
    changed within the settle time is left, and named, until it has settled."""
    from orchestration.contract import load_contract

    columns = load_contract().extracts["cad_incidents"].column_names
    landing = tmp_path / "landing"
    (landing / "2024-01-10").mkdir(parents=True)
    target = landing / "2024-01-10" / "cad_incidents_20240110.csv"
    writer = _slow_writer(target, rows=40, pause=0.1)
    try:
        _wait_for(lambda: target.exists() and target.stat().st_size > 300, 30, "the writer to start")
        during = land(landing, tmp_path / "wh.duckdb", "America/New_York", progress=lambda m: None, settle_seconds=2)
        assert during.waiting == ["2024-01-10/cad_incidents_20240110.csv"] and not during.landed
        assert "left for the next run" in during.summary()
    finally:
        writer.wait(timeout=60)
    assert target.read_text().splitlines()[0].split(",") == columns  # the writer wrote the contract's header
    time.sleep(2.2)
    after = land(landing, tmp_path / "wh.duckdb", "America/New_York", progress=lambda m: None, settle_seconds=2)
    assert not after.waiting and [(r.rows_read, r.rows_loaded) for r in after.landed] == [(40, 40)]


def test_a_retried_publish_never_rewrites_the_release_readers_use(tmp_path):
    """The publish step is retried within one run (e.g. after PostgreSQL failed past the switch): the
    release BI is reading stays whole while the retry writes its own."""
    settings = load_settings(data_dir=tmp_path)
    _small_warehouse(settings.warehouse_path, 5)
    publish(settings, "run-1")
    reader = duckdb.connect(str(settings.serving_path), read_only=True)
    first = settings.serving_dir.joinpath("current").resolve()
    publish(settings, "run-1")  # the retry
    assert first.is_dir() and (first / "parquet" / "mart_x.parquet").exists()
    assert reader.execute("select count(*) from marts.mart_x").fetchone()[0] == 5
    reader.close()
    assert settings.serving_dir.joinpath("current").resolve() != first and _consistent(settings.serving_dir) == 5
