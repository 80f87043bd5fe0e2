"""Write-audit-publish: replace the serving copy atomically with the audited marts.

BI tools read `serving/alt911_marts.duckdb` and `serving/parquet/<table>.parquet`, never the warehouse
(DuckDB allows one writing process, and a BI tool holding the warehouse open would block every run).
Publishing builds the new copy beside the old one, checks it, then swaps it in with one rename for the
DuckDB file and one symlink switch for the Parquet folder. A reader holding the old file open keeps
reading the old copy; nothing is ever half-replaced, and a failed run never reaches this step.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb

from orchestration.land.validate import lit
from orchestration.settings import Settings

# DuckDB 1.x drivers embedded in BI tools (ODBC, JDBC, Metabase plugin) open files in this format.
STORAGE_VERSION = "v1.0.0"
SERVED_SCHEMAS = ("marts", "public_marts", "reference")  # marts, suppressed public marts, code labels
KEEP_EXPORTS = 3


def _tables(con, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'wh' and schema_name = ? order by 1",
        [schema]).fetchall()]


def publish(settings: Settings, run_id: str) -> dict:
    """Publish the warehouse's marts to the serving copy; returns what was published."""
    serving_dir = settings.serving_dir
    serving_dir.mkdir(parents=True, exist_ok=True)
    exports_root = serving_dir / "exports"
    export_dir = exports_root / run_id
    tmp_file = serving_dir / f".{settings.serving_path.name}.{run_id}.tmp"
    # a crashed or disk-full publish leaves its temporary copy behind: clear every one (ours only)
    for leftover in serving_dir.glob(f".{settings.serving_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(export_dir, ignore_errors=True)
    export_dir.mkdir(parents=True)

    con = duckdb.connect()
    counts: dict[str, int] = {}
    try:
        # paths as escaped literals (DuckDB takes no parameters here): a folder named O'Brien works
        con.execute(f"ATTACH {lit(str(settings.warehouse_path))} AS wh (READ_ONLY)")
        con.execute(f"ATTACH {lit(str(tmp_file))} AS serving (STORAGE_VERSION '{STORAGE_VERSION}')")
        for schema in SERVED_SCHEMAS:
            con.execute(f"CREATE SCHEMA serving.{schema}")
            for table in _tables(con, schema):
                con.execute(f"CREATE TABLE serving.{schema}.{table} AS SELECT * FROM wh.{schema}.{table}")
                counts[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM serving.{schema}.{table}").fetchone()[0]
                if schema != "reference":
                    con.execute(f"COPY serving.{schema}.{table} TO {lit(str(export_dir / (table + '.parquet')))} "
                                "(FORMAT parquet)")
        if not any(name.startswith("marts.") for name in counts):
            raise RuntimeError("the warehouse has no marts to publish: has dbt built them?")
        con.execute("DETACH serving")
    finally:
        con.close()

    # Audit the new copy before it replaces anything: it opens, and holds what was written.
    check = duckdb.connect(str(tmp_file), read_only=True)
    try:
        for name, n in counts.items():
            got = check.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            if got != n:
                raise RuntimeError(f"serving copy check failed: {name} has {got} rows, expected {n}")
    finally:
        check.close()

    published_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    manifest = dict(run_id=run_id, published_at=published_at, storage_version=STORAGE_VERSION, tables=counts,
                    serving_file=str(settings.serving_path), parquet_dir=str(settings.parquet_dir))
    (export_dir / "_published.json").write_text(json.dumps(manifest, indent=1))

    os.replace(tmp_file, settings.serving_path)  # atomic: readers see the old file or the new one
    link_tmp = serving_dir / f".parquet.{run_id}"
    link_tmp.unlink(missing_ok=True)
    os.symlink(Path("exports") / run_id, link_tmp)
    os.replace(link_tmp, settings.parquet_dir)  # atomic switch of the Parquet folder
    (serving_dir / "published.json").write_text(json.dumps(manifest, indent=1))

    # Keep a few previous exports: a reader may still be reading one.
    old = sorted((p for p in exports_root.iterdir() if p.is_dir() and p.name != run_id), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - (KEEP_EXPORTS - 1))]:  # keep the newest KEEP_EXPORTS, this one included
        shutil.rmtree(stale, ignore_errors=True)
    return manifest
