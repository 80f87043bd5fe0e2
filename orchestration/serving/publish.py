"""Write-audit-publish: replace the serving copy atomically with the audited marts.

BI tools read `serving/alt911_marts.duckdb` and `serving/parquet/<table>.parquet`, never the warehouse
(DuckDB allows one writing process, and a BI tool holding the warehouse open would block every run).

Each publish writes a whole release, `serving/releases/<run id>-<time>/` (the DuckDB file, the Parquet folder
and `published.json`), re-opens it to check it, then switches ONE pointer: the symlink `serving/current`.
`alt911_marts.duckdb`, `parquet` and `published.json` in the serving folder are fixed symlinks into
`current`, so the file and the Parquet folder always change together; a crash at any moment leaves
either the old release or the new one in place, never a mix. A reader holding the old file open keeps
reading it; a failed run never reaches this step.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb

from orchestration.build_state import current_build_state
from orchestration.land.validate import lit
from orchestration.settings import Settings

# DuckDB 1.x drivers embedded in BI tools (ODBC, JDBC, Metabase plugin) open files in this format.
STORAGE_VERSION = "v1.0.0"
SERVED_SCHEMAS = ("marts", "public_marts", "reference")  # marts, suppressed public marts, code labels
KEEP_RELEASES = 3


def _tables(con, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'wh' and schema_name = ? order by 1", [schema]
        ).fetchall()
    ]


POINTER = "current"
FIXED_LINKS = {"alt911_marts.duckdb": "alt911_marts.duckdb", "parquet": "parquet", "published.json": "published.json"}


def _comments(con, source_db: str) -> dict[tuple[str, str], list[tuple[str | None, str]]]:
    """Every table's and column's comment in `source_db` (dbt's descriptions, persist_docs), by (schema,
    table); the column is None for the table's own. One catalog query: one per table cost 5 ms each."""
    comments: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
    for schema, table, column, comment in con.execute(
        "select schema_name, table_name, null, comment from duckdb_tables() where database_name = ? "
        "union all select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = ? order by all",
        [source_db, source_db],
    ).fetchall():
        if comment:
            comments.setdefault((schema, table), []).append((column, comment))
    return comments


def _copy_comments(con, comments: list[tuple[str | None, str]], target: str) -> None:
    """Carry a table's comments to its copy `target` (db.schema.table), so BI tools show them; in one
    transaction (a commit per comment cost a write of the file's log each)."""
    con.execute("BEGIN TRANSACTION")
    for column, comment in comments:
        what = f"TABLE {target}" if column is None else f'COLUMN {target}."{column}"'
        con.execute(f"COMMENT ON {what} IS {lit(comment)}")
    con.execute("COMMIT")


def publish(settings: Settings, run_id: str) -> dict:
    """Publish the warehouse's marts to the serving copy; returns what was published."""
    serving_dir = settings.serving_dir
    releases = serving_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(serving_dir, releases)
    # a new folder every time: a retried publish step never rewrites the release readers are using
    release = releases / f"{run_id}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    (release / "parquet").mkdir(parents=True)
    db_file = release / settings.serving_path.name

    # Row order means nothing to a table or a Parquet file, and not keeping it lets DuckDB write with
    # every thread: the fact table's copy took a third less time.
    con = duckdb.connect(config={"preserve_insertion_order": False})
    counts: dict[str, int] = {}
    try:
        # paths are parameters wherever DuckDB takes them; ATTACH takes none, so there they are escaped
        # literals: a folder named O'Brien works
        con.execute(f"ATTACH {lit(str(settings.warehouse_path))} AS wh (READ_ONLY)")
        con.execute(f"ATTACH {lit(str(db_file))} AS serving (STORAGE_VERSION '{STORAGE_VERSION}')")
        comments = _comments(con, "wh")
        for schema in SERVED_SCHEMAS:
            con.execute(f"CREATE SCHEMA serving.{schema}")
            for table in _tables(con, schema):
                con.execute(f"CREATE TABLE serving.{schema}.{table} AS SELECT * FROM wh.{schema}.{table}")
                _copy_comments(con, comments.get((schema, table), []), f"serving.{schema}.{table}")
                counts[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM serving.{schema}.{table}").fetchone()[
                    0
                ]
                if schema != "reference":
                    con.execute(
                        f"COPY serving.{schema}.{table} TO ? (FORMAT parquet)",
                        [str(release / "parquet" / f"{table}.parquet")],
                    )
        if not any(name.startswith("marts.") for name in counts):
            raise RuntimeError("the warehouse has no marts to publish: has dbt built them?")
        con.execute("DETACH serving")
    finally:
        con.close()

    # Audit the new copy before it replaces anything: it opens, and holds what was written.
    check = duckdb.connect(str(db_file), read_only=True)
    try:
        for name, n in counts.items():
            got = check.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            parquet = release / "parquet" / f"{name.split('.')[1]}.parquet"
            if not name.startswith("reference."):
                got_parquet = check.execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchone()[0]
                if got_parquet != n:
                    raise RuntimeError(
                        f"serving copy check failed: {parquet.name} has {got_parquet} rows, expected {n}"
                    )
            if got != n:
                raise RuntimeError(f"serving copy check failed: {name} has {got} rows, expected {n}")
    finally:
        check.close()

    published_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest = dict(
        run_id=run_id,
        built_from=current_build_state(settings),  # a later run with the same state skips the build
        published_at=published_at,
        storage_version=STORAGE_VERSION,
        tables=counts,
        serving_file=str(settings.serving_path),
        parquet_dir=str(settings.parquet_dir),
    )
    (release / "published.json").write_text(json.dumps(manifest, indent=1))

    switch_link(serving_dir, POINTER, Path("releases") / release.name)  # THE publish: one atomic rename
    for name, target in FIXED_LINKS.items():
        _ensure_fixed_link(serving_dir / name, Path(POINTER) / target)

    # Keep a few previous releases: a reader may still be reading one.
    old = sorted((p for p in releases.iterdir() if p.is_dir() and p != release), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - (KEEP_RELEASES - 1))]:  # keep the newest KEEP_RELEASES, this one included
        shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(serving_dir / "exports", ignore_errors=True)  # the layout before releases/
    return manifest


def switch_link(folder: Path, name: str, target: Path) -> None:
    """Point the symlink folder/name at target, atomically (a new link renamed over the old one)."""
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, folder / name)


def _ensure_fixed_link(path: Path, target: Path) -> None:
    """serving/alt911_marts.duckdb -> current/alt911_marts.duckdb, and the like; written once (an older
    layout's real file or folder is replaced by the link)."""
    if path.is_symlink() and Path(os.readlink(path)) == target:
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    switch_link(path.parent, path.name, target)


def _clear_leftovers(serving_dir: Path, releases: Path) -> None:
    """What a crashed or disk-full publish left: temporary links and files, and releases never switched
    in (no published.json). The current release and the ones kept for readers stay."""
    for leftover in serving_dir.glob(".*.tmp*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    current = (serving_dir / POINTER).resolve() if (serving_dir / POINTER).is_symlink() else None
    for release in releases.iterdir():
        if release.resolve() != current and not (release / "published.json").exists():
            shutil.rmtree(release, ignore_errors=True)
