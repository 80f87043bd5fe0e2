"""Demo-data generator CLI: `python -m orchestration.demo --help`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    defaults = DemoConfig()
    p = argparse.ArgumentParser(
        prog="python -m orchestration.demo",
        description="Generate daily extract drops for a simulated city, plus the planted truth the marts must reproduce.",
    )
    p.add_argument("--out", type=Path, default=settings.landing_dir, help="landing folder to write drops into (default: %(default)s)")
    p.add_argument("--truth", type=Path, default=None, help="planted-truth JSON path (default: <out>/../demo_truth.json)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="random seed; same seed, same files (default: %(default)s)")
    p.add_argument("--start", type=dt.date.fromisoformat, default=defaults.start, help="first day, YYYY-MM-DD (default: %(default)s)")
    p.add_argument("--days", type=int, default=defaults.days, help="number of days (default: %(default)s)")
    p.add_argument("--years", type=float, default=None, help="alternative to --days: number of 365-day years")
    p.add_argument("--population", type=int, default=defaults.population,
                   help="city population; ~0.45 CAD incidents per person-year (default: %(default)s ≈ 130,000 incidents/year)")
    p.add_argument("--tz", default=settings.city_tz, help="city IANA time zone (default: %(default)s)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default: %(default)s)")
    p.add_argument("--inject", action="store_true", help="also plant every class of bad input and record it")
    args = p.parse_args(argv)

    days = int(round(args.years * 365)) if args.years else args.days
    if days < 1:
        p.error("--days must be at least 1")
    cfg = DemoConfig(seed=args.seed, start=args.start, days=days, population=args.population, city_tz=args.tz)
    truth = args.truth or args.out.parent / "demo_truth.json"
    try:
        summary = generate(cfg, args.out, truth, fmt=args.format, inject=args.inject)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"generated {summary['incidents']:,} incidents in {summary['files']:,} files ({summary['rows']:,} rows) "
          f"in {summary['seconds']:.1f} s; planted truth: {summary['truth']}")
    if "injections" in summary:
        print(f"bad input planted; record: {summary['injections']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
