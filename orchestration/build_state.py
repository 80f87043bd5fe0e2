"""What a release was built from, so that a run with nothing new skips building and publishing.

A release records two fingerprints in its published.json:
- `data`: the landing ledger (files landed, the newest landing, a hash of every path and checksum).
  The ledger only grows, so any file landed since the release changes it.
- `rules`: every file that decides a published number (the dbt project, the seeds, the orchestration
  code and contract, the city folder), the settings, the person key and the versions of dbt and
  DuckDB. An edited rule, seed, threshold or upgrade changes it.
A run whose landing found nothing new and whose fingerprints equal the published ones would rebuild
the same release, so dbt, the quality gates and publishing are skipped (orchestration/assets/land.py).

The staging models are incremental (they read only rows landed since their last build). That is exact
only while the rules fingerprint is the one they were built under, so every core dbt build is recorded
in the warehouse (land.dbt_builds) and the next one is a full refresh when the fingerprint differs from
that of the last finished build or of any attempt since. Each build also records the newest landing it
saw (`landed_through`): the incident-level models (three intermediate models and fct_incidents) rebuild
only the incidents whose inputs changed after that of the last finished build
(macros/changed_incidents.sql).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

import duckdb

from orchestration.land.validate import lit
from orchestration.settings import REPO_ROOT, Settings

# Folders whose files decide what is published (generated and cached files are not walked).
RULE_FOLDERS = [REPO_ROOT / "dbt_project", REPO_ROOT / "seeds", REPO_ROOT / "orchestration", REPO_ROOT / "profiles"]
SKIPPED_FOLDERS = {"target", "logs", "dbt_packages", "city_rules", "__pycache__"}
# How the public site words and draws the published numbers decides none of them: a new chart or a
# program's quarterly note rebuilds the site (`python -m orchestration site`), never the warehouse.
PRESENTATION = (REPO_ROOT / "orchestration" / "site", "public_site.yml")
RULE_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py", ".md", ".json")
VERSIONED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# Settings that say where files live and when runs start, never what a number is: moving the data folder
# or changing the schedule does not force a full rebuild (the city folder's files are hashed instead).
WHERE_AND_WHEN = {
    "data_dir",
    "landing_dir",
    "warehouse_path",
    "serving_dir",
    "quality_dir",
    "city_dir",
    "schedule_cron",
    "sensor_interval_seconds",
    "retries",
    "run_lock_wait_seconds",
    "settle_seconds",
    "landing_memory_limit",
    "marts_freshness_hours",
    "site_pdf",
}


def rules_fingerprint(settings: Settings) -> str:
    """A hash of everything but the data that decides the published numbers."""
    digest = hashlib.sha256()
    for root in [*RULE_FOLDERS, settings.city_dir]:
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(
                d
                for d in subfolders
                if d not in SKIPPED_FOLDERS and not d.startswith(".") and Path(folder, d) != PRESENTATION[0]
            )
            for name in sorted(files):
                if name.endswith(RULE_SUFFIXES) and name != PRESENTATION[1]:
                    path = Path(folder, name)
                    digest.update(f"{path.relative_to(root)}\0".encode())
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
    deciding = {k: v for k, v in dataclasses.asdict(settings).items() if k not in WHERE_AND_WHEN}
    settings_text = json.dumps(deciding, default=str, sort_keys=True)
    digest.update(settings_text.encode())
    digest.update(os.environ.get(settings.person_key_env, os.environ.get("ALT911_PERSON_KEY", "")).encode())
    for package in VERSIONED_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()


def data_fingerprint(warehouse_path: Path) -> str | None:
    """A hash of the landing ledger, or None before anything has landed."""
    if not Path(warehouse_path).exists():
        return None
    con = duckdb.connect()  # attached, like publish: this process may hold the file open elsewhere
    try:
        con.execute(f"ATTACH {lit(str(warehouse_path))} AS wh (READ_ONLY)")
        files, newest, paths = con.execute(
            "SELECT count(*), max(landed_at), bit_xor(hash(path || '|' || checksum)) FROM wh.land.file_ledger"
        ).fetchone()
    except duckdb.CatalogException:  # no ledger yet
        return None
    finally:
        con.close()
    return f"{files}|{newest}|{paths}"


def current_build_state(settings: Settings) -> dict:
    return {"data": data_fingerprint(settings.warehouse_path), "rules": rules_fingerprint(settings)}


def read_published(settings: Settings) -> dict:
    """The current release's published.json (written by orchestration/serving/publish.py), or {} before
    the first publish."""
    path = settings.serving_dir / "published.json"
    return json.loads(path.read_text()) if path.exists() else {}


def published_build_state(settings: Settings) -> tuple[dict | None, str | None]:
    """The build state recorded by the current release and when it was published (None, None before the
    first publish, or for a release published before build states were recorded)."""
    published = read_published(settings)
    return published.get("built_from"), published.get("published_at")


def unchanged_since_publish(settings: Settings) -> str | None:
    """When the data and rules are exactly those of the current release: when it was published. Else None."""
    published, published_at = published_build_state(settings)
    if not published or published.get("data") is None:
        return None
    if settings.publish_postgres and _postgres_built_from(settings) != published:
        return None  # the files switched but PostgreSQL did not take this release: publish again
    return published_at if published == current_build_state(settings) else None


POSTGRES_RECORD = "postgres_published.json"  # in the serving folder, written after PostgreSQL took a release


def record_postgres_published(settings: Settings, built_from: dict) -> None:
    path = settings.serving_dir / POSTGRES_RECORD
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"built_from": built_from}))
    os.replace(partial, path)


def _postgres_built_from(settings: Settings) -> dict | None:
    try:
        return json.loads((settings.serving_dir / POSTGRES_RECORD).read_text()).get("built_from")
    except (OSError, ValueError):
        return None


BUILDS_TABLE = "land.dbt_builds"  # every core dbt build: the rules it ran under, and whether it finished


def needs_full_refresh(settings: Settings, rules: str) -> str | None:
    """Why the next core dbt build must rebuild the incremental models from scratch, or None when an
    incremental build gives the same tables: the last finished build, and every attempt since (an
    unfinished one may have rebuilt some tables), ran under these very rules."""
    if not Path(settings.warehouse_path).exists():
        return None  # nothing built yet: dbt builds every table in full by itself
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        since_last_finished = con.execute(
            f"SELECT DISTINCT rules_fingerprint FROM {BUILDS_TABLE} WHERE started_at >= "
            f"(SELECT max(started_at) FROM {BUILDS_TABLE} WHERE finished_at IS NOT NULL)"
        ).fetchall()
    except duckdb.CatalogException:
        since_last_finished = []
    finally:
        con.close()
    if not since_last_finished:
        return "no finished build of this warehouse is recorded"
    if since_last_finished != [(rules,)]:
        return "the code, seeds, rules, settings or person key differ from those of the last build"
    return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_build_start(settings: Settings, rules: str, full_refresh: bool) -> dt.datetime:
    """Record a core dbt build about to start (nothing else holds the warehouse between steps), with the
    newest landing it will see: no landing runs while a run holds the warehouse, and every later landing
    is stamped later (orchestration/land/loader.py next_landing_time)."""
    started_at = _now()
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} (rules_fingerprint VARCHAR NOT NULL, "
            "full_refresh BOOLEAN NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, "
            "landed_through TIMESTAMP)"
        )
        # warehouses built before landed_through was recorded
        con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS landed_through TIMESTAMP")
        con.execute(
            f"INSERT INTO {BUILDS_TABLE} (rules_fingerprint, full_refresh, started_at, landed_through) "
            "SELECT ?, ?, ?, (SELECT max(landed_at) FROM land.file_ledger)",
            [rules, full_refresh, started_at],
        )
    finally:
        con.close()
    return started_at


def changed_since(settings: Settings) -> str | None:
    """The newest landing the last finished core build saw (ISO text), or None when none is recorded: the
    incident-level models then rebuild every incident. Staging rows landed after it are what changed."""
    if not Path(settings.warehouse_path).exists():
        return None
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        row = con.execute(
            f"SELECT landed_through FROM {BUILDS_TABLE} WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):  # no build, or none recorded landed_through
        row = None
    finally:
        con.close()
    return row[0].isoformat(sep=" ") if row and row[0] is not None else None


def record_build_finished(settings: Settings, started_at: dt.datetime) -> None:
    """Mark a core dbt build finished (after dbt has exited)."""
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(f"UPDATE {BUILDS_TABLE} SET finished_at = ? WHERE started_at = ?", [_now(), started_at])
    finally:
        con.close()
