"""Command line for data engineers: `python -m orchestration {demo,land,status} --help`.

- demo:   generate a demo city into the landing folder (replacing it) and run the main job on a fresh warehouse
- land:   run the main job on whatever is in the landing folder (what a schedule does)
- status: what the warehouse holds: files landed, rows quarantined, files rejected
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


def cmd_land(args, settings: Settings, step: str = "") -> int:
    from orchestration.land.loader import warehouse_summary

    print(f"== {step}main job (Dagster): land {settings.landing_dir} -> {settings.warehouse_path}")
    started = time.monotonic()
    ok = run_main_job(settings)
    print(f"\n{warehouse_summary(settings.warehouse_path)}")
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
    sub.add_parser("land", help="run the main job on the landing folder as it is")
    sub.add_parser("status", help="show what the warehouse holds")
    args = parser.parse_args(argv)
    return {"demo": cmd_demo, "land": cmd_land, "status": cmd_status}[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
