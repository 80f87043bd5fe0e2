"""Command line for data engineers: `python -m orchestration {demo,land,status,city} --help`.

- demo:   generate a demo city into an empty (or earlier demo's) data folder, then the main job on it
          (the demo never touches a folder holding real data)
- land:   the main job on the landing folder as it is: land, quality gate, dbt build, quality gate, publish
- status: what the warehouse holds: files landed, rows quarantined, files rejected, date ranges
- city:   `city new <folder> [--export FILE]` scaffolds a city folder for a new city's data
- dbt:    any dbt command on the warehouse with the project's settings (e.g. `dbt test --select mart_eligibility`)
- prepare: parse the dbt project into the manifest the Dagster definitions load (`make setup` runs it)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from orchestration.settings import REPO_ROOT, Settings, load_settings

DAGSTER_YAML = """\
# Written by `python -m orchestration` when missing; edit freely.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1  # runs the daemon launches queue here; every run also takes the run lock
# Dagster's SQLite event log, writing the events a run plans at its start in one transaction
# (orchestration/event_log.py): a run with nothing new is a few seconds faster.
event_log_storage:
  module: orchestration.event_log
  class: BatchingSqliteEventLogStorage
"""


def prepare_instance(settings: Settings):
    """The project's Dagster instance (history of runs, schedules and sensors) under data/dagster_home."""
    import dagster as dg

    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return dg.DagsterInstance.get()


def run_job(settings: Settings, job_name: str, run_config: dict | None = None, run_id: str | None = None):
    """One Dagster run on these settings' data and city folders, in this process, recorded in the
    project's Dagster instance."""
    from orchestration.dbt import prepare_manifest

    prepare_manifest(settings)  # the definitions load the dbt assets from dbt's manifest
    from orchestration.assets.resources import Warehouse
    from orchestration.definitions import defs

    warehouse = Warehouse(data_dir=str(settings.data_dir), city_dir=str(settings.city_dir))
    config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}, **warehouse.run_config(), **(run_config or {})}
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=prepare_instance(settings), raise_on_error=False, run_config=config, run_id=run_id
    )
    return result


def locked(command):
    """Run a CLI command holding the warehouse (orchestration/runlock.py): a second command waits for the
    first, or says which run holds it; a crashed earlier run is cleaned up first."""
    import functools

    @functools.wraps(command)
    def wrapper(args, settings: Settings) -> int:
        import uuid

        from orchestration.runlock import WarehouseBusy, hold_run_lock

        run_id = str(uuid.uuid4())
        try:
            with hold_run_lock(settings, run_id=run_id, instance=prepare_instance(settings)):
                return command(args, settings, run_id=run_id)
        except WarehouseBusy as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3

    return wrapper


def failed_checks(result) -> list[str]:
    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                out.append(
                    f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}: {evaluation.description}"
                )
        elif event.is_step_failure:
            err = event.step_failure_data.error
            while err is not None and err.cause is not None:  # the user's error, not Dagster's wrapper
                err = err.cause
            out.append(f"step {event.step_key} failed: {err.message.strip() if err else ''}")
    return out


def write_demo_drops(
    settings: Settings,
    years: float = 1.0,
    seed: int = 42,
    start: dt.date = dt.date(2023, 7, 1),
    fmt: str = "csv",
    inject: bool = False,
    progress=print,
) -> dict:
    """Demo drops for the demo city in the settings' landing folder, on a fresh warehouse. Refuses (DemoRefused)
    a data folder holding anything an earlier demo did not write: the demo never touches real data."""
    from orchestration.demo.generate import claim_for_demo, generate, record_demo_files
    from orchestration.demo.simulation import DemoConfig
    from orchestration.settings import DEMO_CITY_DIR

    if settings.city_dir != DEMO_CITY_DIR.resolve():
        raise SystemExit(f"the demo simulates the demo city; ALT911_CITY_DIR is {settings.city_dir}")
    claim_for_demo(settings.data_dir, settings.landing_dir, settings.warehouse_path)
    cfg = DemoConfig(seed=seed, days=int(round(years * 365)), start=start, city_tz=settings.city_tz)
    summary = generate(
        cfg, settings.landing_dir, settings.data_dir / "demo_truth.json", fmt=fmt, inject=inject, progress=progress
    )
    record_demo_files(settings.data_dir, settings.landing_dir)
    return summary


def cmd_demo(args, settings: Settings) -> int:
    from orchestration.demo.generate import DemoRefused, check_demo_may_use

    try:  # before anything is written, the lock file included
        check_demo_may_use(settings.data_dir, settings.landing_dir, settings.warehouse_path)
        return _demo(args, settings)
    except DemoRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


@locked
def _demo(args, settings: Settings, run_id: str) -> int:
    # demo data may use the published demo pseudonymization key; real runs must set ALT911_PERSON_KEY
    os.environ.setdefault("ALT911_DEMO", "true")
    print(
        f"== demo: generate {args.years} city-year(s) from {args.start} (seed {args.seed}) into {settings.landing_dir}"
    )
    summary = write_demo_drops(settings, args.years, args.seed, args.start, args.format, args.inject)
    print(
        f"generated {summary['incidents']:,} incidents in {summary['files']:,} files; planted truth {summary['truth']}"
    )
    os.environ.setdefault("ALT911_SETTLE_SECONDS", "0")  # the demo's own files are complete
    return _run_main_job(settings, run_id)


@locked
def cmd_land(args, settings: Settings, run_id: str) -> int:
    return _run_main_job(settings, run_id, rebuild=args.rebuild or args.full_refresh, full_refresh=args.full_refresh)


def published_in(result) -> bool:
    """Whether a main-job run published (it does not when nothing was new)."""
    return any(
        event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key.path == ["serving", "published_marts"]
        for event in result.all_events
    )


def _run_main_job(settings: Settings, run_id: str, rebuild: bool = False, full_refresh: bool = False) -> int:
    from orchestration.land.loader import warehouse_summary

    print(f"== main job (Dagster): land {settings.landing_dir} -> quality gate -> dbt build -> quality gate -> publish")
    job_name = "main_job"
    started = time.monotonic()
    ops = {}
    if rebuild:
        ops["land_extract_drops"] = {"config": {"rebuild": True}}
    if full_refresh:
        ops["dbt_core"] = {"config": {"full_refresh": True}}
    config = {"ops": ops} if ops else None
    result = run_job(settings, job_name, run_config=config, run_id=run_id)
    seconds = time.monotonic() - started
    if result.success and not published_in(result):
        print(
            f"\nNothing new: no file landed and the rules are those the current release was built from, so dbt, "
            f"the quality gates and publishing were skipped.\nThe serving copy is unchanged: {settings.serving_path}"
            f"\n(`python -m orchestration land --rebuild` builds and publishes anyway.)"
        )
        print(f"\n{job_name} succeeded in {seconds:.1f} s (run {result.run_id}; history: {settings.dagster_home})")
        return 0
    if settings.warehouse_path.exists():
        print(f"\n{warehouse_summary(settings.warehouse_path)}")
    seconds = time.monotonic() - started
    if result.success:
        print(
            f"\nPublished (BI tools and analysts read these):\n"
            f"  serving DuckDB file  {settings.serving_path}\n"
            f"  Parquet exports      {settings.parquet_dir}/<mart>.parquet\n"
            f"  quality Data Docs    {settings.data_docs_index}\n"
            f"  public site          {settings.site_dir / 'index.html'} (data cards: {settings.site_dir / 'cards'})"
        )
        print(f"\n{headline_metrics(settings.serving_path)}")
        print(
            f"\n{job_name} succeeded in {seconds:.1f} s (run {result.run_id}; Dagster history: {settings.dagster_home})"
        )
        return 0
    print(f"\n{job_name} FAILED in {seconds:.1f} s (run {result.run_id}). What failed:")
    for line in failed_checks(result):
        print(f"  - {line}")
    state = (
        f"still the last good copy: {settings.serving_path}" if settings.serving_path.exists() else "not published yet"
    )
    print(f"Nothing was published; the serving copy is {state}. Quality Data Docs: {settings.data_docs_index}")
    return 1


# The command line's headline summary: which mart_kpis rows to print, in order (metric, dimension
# value or None). Labels, units and formats come with the rows (seed kpi_metrics): this list holds no wording.
HEADLINES = [
    ("incidents", None),
    ("eligible_incidents", None),
    ("share_of_eligible_served", None),
    ("forgone_share_of_eligible", "outside_hours"),
    ("forgone_share_of_eligible", "no_unit_available"),
    ("forgone_share_of_eligible", "unknown"),
    ("response_time_median_minutes", "crt"),
    ("response_time_median_minutes", "police_on_eligible"),
    ("police_hours_saved", None),
    ("arrests_per_100", "served"),
    ("arrests_per_100", "police_handled"),
]
UNIT_SUFFIXES = {"minutes": " min", "hours": " h"}  # by kpi_metrics.unit


def headline_metrics(warehouse) -> str:
    """A few headline numbers for the whole history, read from marts.mart_kpis_all_time."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select metric, dimension_value, value, value_note, unit, value_format, label from marts.mart_kpis_all_time"
        ).fetchall()
    finally:
        con.close()
    kpi = {(metric, dimension): rest for metric, dimension, *rest in rows}
    notes = {metric: (note, label) for metric, _, _, note, _, _, label in rows if note}  # "not recorded: <input>"
    lines = [f"Headline metrics, whole history (from {warehouse}, marts.mart_kpis_all_time):"]
    for metric, dimension in HEADLINES:
        if metric in notes:
            text, label = notes[metric]
        elif (metric, dimension) in kpi:
            value, _, unit, value_format, label = kpi[(metric, dimension)]
            text = format(value, value_format) + UNIT_SUFFIXES.get(unit, "") if value is not None else "n/a"
        else:
            text, label = "n/a", metric
        label = f"{label}: {dimension.replace('_', ' ')}" if dimension else label
        lines.append(f"  {label:<70}{text:>12}")
    return "\n".join(lines)


def cmd_city(args, settings: Settings) -> int:
    from orchestration.city import scaffold

    try:
        todo = scaffold(args.folder, args.export, args.delimiter)
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created the city folder {args.folder}. Fill in (docs/bring-your-city.md explains each):")
    for n, line in enumerate(todo, 1):
        print(f"  {n}. {line}")
    return 0


def cmd_status(args, settings: Settings) -> int:
    from orchestration.land.loader import warehouse_summary
    from orchestration.runlock import describe, holder

    print(f"city folder: {settings.city_dir} ({settings.city_name}; program {settings.program}, {settings.city_tz})")
    running = holder(settings)
    if running:
        print(f"a run is writing the warehouse now: {describe(running)}")
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path} yet: run `make demo` or `python -m orchestration land`")
        return 1
    import duckdb

    try:
        print(warehouse_summary(settings.warehouse_path))
    except duckdb.IOException as exc:  # DuckDB allows one writer, and a run is writing the warehouse now
        if "lock" not in str(exc).lower():
            raise
        print(
            f"the warehouse {settings.warehouse_path} is being written by a run right now; "
            "try again when it ends (the last published copy is in the serving folder)"
        )
        return 1
    return 0


def cmd_dev(args, settings: Settings) -> int:
    """`dagster dev` with the project's instance, so schedules, sensors and run history persist."""
    import subprocess

    from orchestration.dbt import prepare_manifest

    prepare_instance(settings)
    prepare_manifest(settings)
    dagster = str(Path(sys.executable).with_name("dagster"))
    # pyproject.toml [tool.dagster] names the module and the code location (alt911)
    return subprocess.call([dagster, "dev"], cwd=REPO_ROOT)


@locked
def cmd_dbt(args, settings: Settings, run_id: str) -> int:
    from orchestration.dbt import dbt_env, run_dbt

    extra = {}
    if args.dbt_args[:2] == ["docs", "generate"]:
        # compiled SQL in the docs would carry the pseudonymization key: document in demo mode
        extra["ALT911_DEMO"] = "true"
        extra["ALT911_PERSON_KEY"] = ""
    return run_dbt(args.dbt_args, env=dbt_env(settings, **extra), capture=False).returncode


def cmd_site(args, settings: Settings) -> int:
    """Build the public site and data cards from the serving copy as it is (no run, no dbt)."""
    import dataclasses
    import uuid

    from orchestration.site.build import SiteError
    from orchestration.site.publish import publish_site

    if args.no_pdf:
        settings = dataclasses.replace(settings, site_pdf=False)
    try:
        result = publish_site(settings, f"site-{uuid.uuid4()}")
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    index = settings.site_dir / "index.html"
    print(
        f"public site: {index}\n"
        f"data cards:  {settings.site_dir / 'cards' / 'index.html'} ({len(result['cards'])} quarters)"
    )
    if args.open:
        import webbrowser

        if not webbrowser.open(index.resolve().as_uri()):
            print("(no browser to open here: open the file above in any browser, or copy the folder to a static host)")
    return 0


def cmd_prepare(args, settings: Settings) -> int:
    from orchestration.dbt import prepare_manifest

    print(f"dbt manifest ready: {prepare_manifest(settings)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from orchestration.settings import SettingsError

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        prog="python -m orchestration", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate demo data and run the main job end to end")
    demo.add_argument("--years", type=float, default=1.0, help="city-years of demo data (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=42, help="generator seed (default: %(default)s)")
    demo.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2023, 7, 1),
        help="first day (default: %(default)s, so the demo spans the citywide expansion of 2023-10-23)",
    )
    demo.add_argument("--format", choices=("csv", "parquet"), default="csv")
    demo.add_argument("--inject", action="store_true", help="plant bad input too (the run then fails on purpose)")
    land = sub.add_parser("land", help="run the main job on the landing folder as it is (what the schedule does)")
    land.add_argument("--rebuild", action="store_true", help="build, check and publish even when nothing new landed")
    land.add_argument(
        "--full-refresh",
        action="store_true",
        help="like --rebuild, and rebuild the incremental models from all of raw (after a manual change "
        "to raw tables; a changed rule, seed, setting or code does it by itself)",
    )
    sub.add_parser("dev", help="start the Dagster UI (dagster dev) on the project's instance")
    sub.add_parser("status", help="show what the warehouse holds")
    sub.add_parser("prepare", help="parse the dbt project (the Dagster definitions load its manifest)")
    site = sub.add_parser("site", help="build the public site and data cards from the current serving copy")
    site.add_argument("--no-pdf", action="store_true", help="HTML only (the PDF cards need Chromium)")
    site.add_argument("--open", action="store_true", help="open the site in a browser afterwards")
    city = sub.add_parser("city", help="`city new <folder>`: scaffold a city folder (ALT911_CITY_DIR points at it)")
    city.add_argument("action", choices=["new"])
    city.add_argument("folder", type=Path, help="the new city folder (outside the repository, or under cities/)")
    city.add_argument("--export", type=Path, help="a CAD export: its header becomes the mapping template's column list")
    city.add_argument("--delimiter", default=",", help="the export's delimiter (default: %(default)s)")
    dbt = sub.add_parser("dbt", help="run a dbt command on the warehouse with the project's settings")
    dbt.add_argument(
        "dbt_args", nargs=argparse.REMAINDER, help="arguments for dbt, e.g. build --select mart_eligibility+"
    )
    args = parser.parse_args(argv)
    if args.command == "dbt" and not args.dbt_args:
        parser.error("dbt needs arguments, e.g. `python -m orchestration dbt build`")
    commands = {
        "demo": cmd_demo,
        "land": cmd_land,
        "status": cmd_status,
        "dbt": cmd_dbt,
        "dev": cmd_dev,
        "city": cmd_city,
        "prepare": cmd_prepare,
        "site": cmd_site,
    }
    return commands[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
