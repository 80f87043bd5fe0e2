"""Command line for data engineers: `python -m orchestration {demo,land,status} --help`.

- demo:   generate a demo city into the landing folder (replacing it) and run the main job on a fresh warehouse
- land:   run the main job (land new drops, then dbt build) on the landing folder as it is
- status: what the warehouse holds: files landed, rows quarantined, files rejected
- dbt:    any dbt command on the warehouse with the project's settings (e.g. `dbt test --select mart_eligibility`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

from orchestration.settings import Settings, load_settings


def _instance(settings: Settings):
    import dagster as dg

    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return dg.DagsterInstance.get()


def run_main_job(settings: Settings) -> bool:
    """One Dagster run of the main job, in this process, recorded in the project's Dagster instance."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("main_job")
    result = job.execute_in_process(
        instance=_instance(settings),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                err = event.step_failure_data.error
                print(f"\nFAILED step {event.step_key}: {err.message if err else ''}", file=sys.stderr)
    return result.success


def cmd_demo(args, settings: Settings) -> int:
    from orchestration.demo.generate import generate
    from orchestration.demo.simulation import DemoConfig

    # demo data may use the published demo pseudonymization key; real runs must set ALT911_PERSON_KEY
    os.environ.setdefault("ALT911_DEMO", "true")
    days = int(round(args.years * 365))
    cfg = DemoConfig(seed=args.seed, days=days, start=args.start, city_tz=settings.city_tz)
    print(f"== 1/2 generate demo data: {days} days from {cfg.start}, seed {cfg.seed} -> {settings.landing_dir}")
    summary = generate(cfg, settings.landing_dir, settings.data_dir / "demo_truth.json", fmt=args.format,
                       inject=args.inject, replace=True)
    print(f"   {summary['incidents']:,} incidents in {summary['files']:,} files, {summary['seconds']:.1f} s")
    for suffix in ("", ".wal"):  # a fresh warehouse, so the demo shows exactly this city
        path = settings.warehouse_path.with_name(settings.warehouse_path.name + suffix)
        if path.exists():
            path.unlink()
    return cmd_land(args, settings, step="2/2 ")


HEADLINES = [  # (label, metric in marts.mart_kpis, dimension value or None, format)
    ("CAD incidents", "incidents", None, "{:,.0f}"),
    ("program-eligible incidents", "eligible_incidents", None, "{:,.0f}"),
    ("share of eligible served", "share_of_eligible_served", None, "{:.1%}"),
    ("forgone: outside hours (share of eligible)", "forgone_share_of_eligible", "outside_hours", "{:.1%}"),
    ("forgone: no unit available", "forgone_share_of_eligible", "no_unit_available", "{:.1%}"),
    ("forgone: unknown reason", "forgone_share_of_eligible", "unknown", "{:.1%}"),
    ("CRT response, median minutes", "response_time_median_minutes", "crt", "{:.1f}"),
    ("police response on eligible calls, median minutes", "response_time_median_minutes", "police_on_eligible", "{:.1f}"),
    ("police hours saved", "police_hours_saved", None, "{:,.0f}"),
    ("arrests per 100: served / police-handled", "arrests_per_100", None, None),
]


def headline_metrics(warehouse) -> str:
    """A few headline numbers for the whole history, read from marts.mart_kpis."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select metric, dimension_value, value from marts.mart_kpis where period_grain = 'all'").fetchall()
    finally:
        con.close()
    kpi = {(m, d): v for m, d, v in rows}
    lines = ["Headline metrics, whole history (marts.mart_kpis, period_grain = 'all'):"]
    for label, metric, dim, fmt in HEADLINES:
        if fmt is None:
            served, police = kpi.get((metric, "served")), kpi.get((metric, "police_handled"))
            text = f"{served:.2f} / {police:.2f}" if served is not None and police is not None else "n/a"
        else:
            value = kpi.get((metric, dim))
            text = fmt.format(value) if value is not None else "n/a"
        lines.append(f"  {label:<52}{text:>14}")
    return "\n".join(lines)


def cmd_land(args, settings: Settings, step: str = "") -> int:
    from orchestration.land.loader import warehouse_summary

    print(f"== {step}main job (Dagster): land {settings.landing_dir} -> {settings.warehouse_path}, then dbt build")
    started = time.monotonic()
    ok = run_main_job(settings)
    print(f"\n{warehouse_summary(settings.warehouse_path)}")
    if ok:
        print(f"\n{headline_metrics(settings.warehouse_path)}")
    print(f"\nmain job {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s; "
          f"warehouse: {settings.warehouse_path}; Dagster runs: {settings.dagster_home}")
    return 0 if ok else 1


def cmd_status(args, settings: Settings) -> int:
    from orchestration.land.loader import warehouse_summary

    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path} yet: run `make demo` or `python -m orchestration land`")
        return 1
    print(warehouse_summary(settings.warehouse_path))
    return 0


def cmd_dbt(args, settings: Settings) -> int:
    from orchestration.dbt import dbt_env, run_dbt

    extra = {}
    if args.dbt_args[:2] == ["docs", "generate"]:
        # compiled SQL in the docs would carry the pseudonymization key: document in demo mode
        extra["ALT911_DEMO"] = "true"
        extra["ALT911_PERSON_KEY"] = ""
    return run_dbt(args.dbt_args, env=dbt_env(settings, **extra), capture=False).returncode


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m orchestration", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate demo data and run the main job end to end")
    demo.add_argument("--years", type=float, default=1.0, help="city-years of demo data (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=42, help="generator seed (default: %(default)s)")
    demo.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 7, 1),
                      help="first day (default: %(default)s, so the demo spans the citywide expansion of 2023-10-23)")
    demo.add_argument("--format", choices=("csv", "parquet"), default="csv")
    demo.add_argument("--inject", action="store_true", help="plant bad input too (the run then fails on purpose)")
    sub.add_parser("land", help="run the main job (land new drops, build the warehouse) on the landing folder as it is")
    sub.add_parser("status", help="show what the warehouse holds")
    dbt = sub.add_parser("dbt", help="run a dbt command on the warehouse with the project's settings")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments for dbt, e.g. build --select mart_eligibility+")
    args = parser.parse_args(argv)
    if args.command == "dbt" and not args.dbt_args:
        parser.error("dbt needs arguments, e.g. `python -m orchestration dbt build`")
    commands = {"demo": cmd_demo, "land": cmd_land, "status": cmd_status, "dbt": cmd_dbt}
    return commands[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
