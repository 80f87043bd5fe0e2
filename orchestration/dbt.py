"""The dbt project, defined once, and the few things Python needs to run it.

Python never computes a metric: it prepares dbt's manifest, builds dbt's command line and runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DEMO_CITY_DIR, REPO_ROOT, Settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_PROFILES_DIR = REPO_ROOT / "profiles"
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
DBT_RUNS_DIR = DBT_TARGET_DIR / "runs"  # one folder per dbt invocation of a Dagster run (artifacts and logs)
KEEP_RUN_FOLDERS = 10  # older ones are removed after every build: 6-8 MB each at ten city-years
CITY_RULES_DIR = DBT_PROJECT_DIR / "city_rules"  # git-ignored copies of each city's rules/, as dbt reads them
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"
_SOURCES = [DBT_PROJECT_DIR, REPO_ROOT / "seeds", DBT_PROFILES_DIR]

# The dbt project, defined once. Under `dagster dev` prepare_if_dev() re-parses it on every reload;
# elsewhere prepare_manifest() does (the CLI before a run, `make setup`, the test session).
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)


def dbt_executable() -> str:
    """dbt from the same environment as this Python (dagster-dbt also needs it on PATH): `alt911-dbt`, dbt's own
    command line without building the log lines no logger writes (orchestration/dbt_cli.py), where the
    project is installed (`make setup`), else plain dbt."""
    for name in ("alt911-dbt", "dbt"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists():
            return str(candidate)
    return "dbt"


def dbt_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a dbt run: the warehouse and the city folder's settings (rules, time zone,
    program, risk screen, what is not recorded, the person key from the variable the city names)."""
    rules = sync_city_rules(settings.city_dir)
    env = dict(os.environ)
    env.update(
        ALT911_WAREHOUSE=str(settings.warehouse_path),
        ALT911_CITY_TZ=settings.city_tz,
        ALT911_PROGRAM=settings.program,
        ALT911_CITY_DIR=str(settings.city_dir),
        ALT911_CITY_RULES=str(rules.relative_to(DBT_PROJECT_DIR)),
        ALT911_RISK_SCREEN=settings.risk_screen,
        ALT911_RISK_SCREEN_PRIORITY_AT_LEAST=str(settings.risk_screen_priority_at_least or ""),
        ALT911_NOT_RECORDED=",".join(settings.not_recorded),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    if settings.person_key_env != "ALT911_PERSON_KEY" and os.environ.get(settings.person_key_env):
        env["ALT911_PERSON_KEY"] = os.environ[settings.person_key_env]
    env.setdefault("DBT_LOG_PATH", str(settings.data_dir / "dbt_logs"))
    env.update(extra)
    return env


def sync_city_rules(city_dir: Path) -> Path:
    """Copy a city folder's rules/*.csv where dbt reads them (one folder per city folder, so two cities
    can build from one checkout); returns that folder. Only changed files are written (an unchanged
    manifest stays valid); files the city no longer has are removed. Never written back."""
    city_dir = Path(city_dir).resolve()
    slug = (
        "demo"
        if city_dir == DEMO_CITY_DIR.resolve()
        else f"{city_dir.name}-{hashlib.sha256(str(city_dir).encode()).hexdigest()[:8]}"
    )
    target_dir = CITY_RULES_DIR / slug
    target_dir.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p.read_bytes() for p in (city_dir / "rules").glob("*.csv")}
    if not wanted:
        raise FileNotFoundError(f"{city_dir / 'rules'} holds no rule files (*.csv); see docs/bring-your-city.md")
    for stale in target_dir.glob("*.csv"):
        if stale.name not in wanted:
            stale.unlink()
    for name, data in wanted.items():
        target = target_dir / name
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return target_dir


def build_args(select: str | None = None, include_unit_tests: bool = False, full_refresh: bool = False) -> list[str]:
    """Arguments for `dbt build`. Unit tests run in CI (`dbt test --select test_type:unit`), not in
    scheduled runs, where they would only slow down every build. `full_refresh` rebuilds the incremental
    models (staging, the incident-level models) from all of raw."""
    args = ["build"] + (["--full-refresh"] if full_refresh else [])
    if select:
        args += ["--select", select]
    if not include_unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


def _newest_source_mtime() -> float:
    """Newest change to the project's SQL, YAML and seeds; dbt's own output (target/, logs/) is not
    walked: it holds thousands of files and this runs before every run."""
    newest = 0.0
    for root in _SOURCES:
        for folder, subfolders, files in os.walk(root):
            if Path(folder) == DBT_PROJECT_DIR:
                subfolders[:] = [d for d in subfolders if d not in ("target", "logs")]
            for name in files:
                if name.endswith((".sql", ".yml", ".csv")):
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


@contextmanager
def dbt_environment(settings: Settings, **extra: str):
    """The settings in this process's environment for the length of a dagster-dbt call (it hands dbt
    os.environ and has no other way in), then the environment as it was, so a long-lived process
    (the CLI, a test) keeps none of them."""
    saved = dict(os.environ)
    os.environ.update(dbt_env(settings, **extra))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_folder(step: str, run_id: str) -> Path:
    """Where one dbt invocation of a Dagster run writes its artifacts and logs."""
    return DBT_RUNS_DIR / f"{step}-{run_id}"


PARSE_STATE = "partial_parse.msgpack"


def keep_parse_state(run_target: Path, target_dir: Path = DBT_TARGET_DIR) -> None:
    """Make a finished dbt invocation's parse state the starting point of the next one. dagster-dbt copies
    target/partial_parse.msgpack into each run folder, but dbt throws it away and parses the whole project
    again (4-5 s a call) when it was written under another warehouse path or another project-level
    setting: the `dbt parse` that prepares the manifest runs in demo mode, and every test and city has its
    own warehouse. dbt checks the state against the files itself, so a newer one is always safe to start
    from. Replaced in one rename: another run may be copying it."""
    fresh = run_target / PARSE_STATE
    if not fresh.exists():
        return
    partial = target_dir / f".{PARSE_STATE}.{os.getpid()}"
    shutil.copyfile(fresh, partial)
    os.replace(partial, target_dir / PARSE_STATE)


def prune_run_folders(keep: int = KEEP_RUN_FOLDERS, runs_dir: Path = DBT_RUNS_DIR) -> None:
    """Keep the newest `keep` invocation folders: an hourly schedule must not fill the disk. A folder
    written in the last hour stays whatever the count: another city's run from this checkout may be
    writing it."""
    folders = sorted((p for p in runs_dir.glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    idle = [p for p in folders[: max(len(folders) - keep, 0)] if time.time() - p.stat().st_mtime > 3600]
    # before release 10, run folders sat directly in target/ as dbt_<step>-<ids>; they are never reused
    legacy = [p for p in runs_dir.parent.glob("dbt_*-*") if p.is_dir()]
    for old in idle + legacy:
        shutil.rmtree(old, ignore_errors=True)


def prepare_manifest(settings: Settings) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project files (Dagster loads
    the dbt assets from it). Deprecations are errors, as in CI."""
    sync_city_rules(settings.city_dir)
    if MANIFEST_PATH.exists() and MANIFEST_PATH.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST_PATH
    out = run_dbt(
        ["parse", "--warn-error-options", '{"error": ["Deprecations"]}'], env=dbt_env(settings, ALT911_DEMO="true")
    )  # parsing needs no key; demo mode keeps it quiet
    if out.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{out.stdout[-4000:]}\n{out.stderr[-2000:]}")
    return MANIFEST_PATH


def run_dbt(args: list[str], env: dict[str, str], capture: bool = True) -> subprocess.CompletedProcess:
    """Run dbt in the project with the project's profiles; output is captured and returned unless
    capture=False (then it streams to the terminal)."""
    return subprocess.run(
        [dbt_executable(), *args, "--profiles-dir", str(DBT_PROFILES_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=capture,
        text=True,
    )
