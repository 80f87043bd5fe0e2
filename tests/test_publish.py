"""Publishing on its own: robust to awkward paths and to what an earlier crashed publish left behind."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from orchestration.serving.publish import publish
from orchestration.settings import load_settings
from tests.conftest import REPO, clean_env


def small_warehouse(path):
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema public_marts; create schema reference")
    con.execute("create table marts.mart_x as select 1 as a union all select 2")
    con.execute("create table public_marts.pub_x as select 11 as incidents")
    con.execute("create table reference.codes as select 'x' as code")
    con.close()


def test_a_data_folder_with_an_apostrophe_publishes_and_leftovers_are_cleared(tmp_path):
    data = tmp_path / "O'Brien's data"
    data.mkdir()
    settings = load_settings(data_dir=data, warehouse_path=data / "warehouse.duckdb")
    small_warehouse(settings.warehouse_path)
    settings.serving_dir.mkdir()
    leftover = settings.serving_dir / f".{settings.serving_path.name}.crashed-run.tmp"
    leftover.write_bytes(b"half a file from a full disk")
    manifest = publish(settings, "run-1")
    assert manifest["tables"] == {"marts.mart_x": 2, "public_marts.pub_x": 1, "reference.codes": 1}
    assert not leftover.exists()
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    assert con.execute("select sum(a) from marts.mart_x").fetchone()[0] == 3
    con.close()
    assert (settings.parquet_dir / "mart_x.parquet").exists()


def test_status_while_a_run_writes_the_warehouse_says_so(tmp_path):
    small_warehouse(tmp_path / "warehouse.duckdb")
    writer = duckdb.connect(str(tmp_path / "warehouse.duckdb"))  # a run holding the single writer lock
    try:
        out = subprocess.run(
            [sys.executable, "-c", "import sys; from orchestration.__main__ import main; sys.exit(main(['status']))"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env=clean_env(ALT911_DATA_DIR=str(tmp_path)),
        )
    finally:
        writer.close()
    assert out.returncode == 1
    assert "is being written by a run right now" in out.stdout and "Traceback" not in out.stderr
