"""Generate demo extract drops and their planted truth: `python -m orchestration.demo.generate --help`
writes drops only; `python -m orchestration demo` writes them and runs the main job on them."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from orchestration.contract import load_contract
from orchestration.demo.rules import ProgramRules
from orchestration.demo.simulation import DemoConfig, Simulation
from orchestration.demo.truth import Truth
from orchestration.demo.writer import DropWriter, as_of_encounter, as_of_incident


def generate(
    cfg: DemoConfig,
    landing_dir: Path,
    truth_path: Path,
    fmt: str = "csv",
    inject: bool = False,
    progress: Callable[[str], None] = print,
) -> dict:
    """Write drops for cfg's period into landing_dir and the planted truth to truth_path.
    With inject=True, also plant every class of bad input (see inject.py) and record it beside the truth."""
    started = time.monotonic()
    landing_dir, truth_path = Path(landing_dir), Path(truth_path)
    if landing_dir.exists() and any(landing_dir.iterdir()):  # never mixed with, or written over, other drops
        raise FileExistsError(f"landing folder {landing_dir} is not empty; the demo writes only into an empty one")
    landing_dir.mkdir(parents=True, exist_ok=True)

    contract = load_contract()
    rules = ProgramRules.load(cfg.program)
    writer = DropWriter(landing_dir, contract, cfg.city_tz, fmt)
    last_drop = cfg.end + dt.timedelta(days=cfg.trailing_drop_days)
    truth = Truth(
        cfg.start, cfg.end, writer.extract_time(last_drop), rules.police_parameter("displacement_factor", cfg.end)
    )
    sim = Simulation(cfg, rules, truth)

    day = cfg.start
    while day <= last_drop:
        if day <= cfg.end:
            sim.simulate_day(day)
        as_of = writer.extract_time(day)
        tables = {name: [] for name in contract.extracts}
        for d in (day - dt.timedelta(days=1), day):  # CAD re-sends yesterday: drops overlap
            for inc in sim.incidents_by_day.get(d, []):
                head, calls, units = as_of_incident(inc, as_of)
                tables["cad_incidents"].append(head)
                tables["cad_calls"] += calls
                tables["cad_unit_assignments"] += units
        tables["program_shifts"] = sim.shifts_by_day.pop(day, [])
        cm = sim.cm_by_day.pop(day, {})
        tables["cm_encounters"] = list(
            {e["encounter_id"]: as_of_encounter(e, as_of) for e in cm.get("cm_encounters", [])}.values()
        )
        tables["cm_people"] = list({p["person_id"]: p for p in cm.get("cm_people", [])}.values())
        for name in ("cm_referrals", "cm_transports", "cm_follow_ups", "rms_arrests"):
            tables[name] = cm.get(name, [])
        writer.write_drop(day, tables, as_of)
        sim.incidents_by_day.pop(day - dt.timedelta(days=1), None)
        if day.day == 1 or day == last_drop:
            progress(
                f"generate: drops written through {day} ({writer.files_written:,} files, {writer.rows_written:,} rows)"
            )
        day += dt.timedelta(days=1)

    config = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(cfg).items()}
    config.update(end=cfg.end.isoformat(), format=fmt, last_drop=last_drop.isoformat())
    result = truth.result(sim.tz, config)
    result["landing"] = dict(rows_written=writer.rows_written)  # every row lands: the demo writes no bad one
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(result, indent=1, sort_keys=False), encoding="utf-8")
    summary = dict(
        files=writer.files_written,
        rows=writer.rows_written,
        incidents=result["volume"]["incidents"],
        seconds=time.monotonic() - started,
        truth=str(truth_path),
    )
    if inject:
        from orchestration.demo.inject import inject_bad_input

        injections = inject_bad_input(landing_dir, cfg, contract, fmt)
        path = truth_path.with_name(truth_path.stem + "_injections.json")
        path.write_text(json.dumps(injections, indent=1), encoding="utf-8")
        summary["injections"] = str(path)
    return summary


# ------------------------------------------------------------------ a data folder the demo may use

DEMO_MARKER = ".alt911-demo.json"  # in the data folder: the landing files the demo wrote there


class DemoRefused(RuntimeError):
    """The data folder holds something the demo did not write: it is left untouched."""


def claim_for_demo(data_dir: Path, landing_dir: Path, warehouse_path: Path) -> None:
    """Clear an earlier demo's drops and warehouse so a demo can start afresh, or refuse.

    The demo only ever removes what an earlier demo wrote (listed in the marker file). A landing file it
    did not write, or a warehouse in a folder the demo never used, means real data: nothing is touched."""
    landing_dir, warehouse_path = Path(landing_dir), Path(warehouse_path)
    present = check_demo_may_use(data_dir, landing_dir, warehouse_path)
    for rel in present:
        (landing_dir / rel).unlink()
    for folder in sorted((p for p in landing_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        folder.rmdir()
    for suffix in ("", ".wal"):
        warehouse_path.with_name(warehouse_path.name + suffix).unlink(missing_ok=True)


def check_demo_may_use(data_dir: Path, landing_dir: Path, warehouse_path: Path) -> set[str]:
    """Raise DemoRefused unless every landing file and the warehouse are an earlier demo's (nothing is
    written); returns the landing files an earlier demo wrote."""
    data_dir, landing_dir, warehouse_path = Path(data_dir), Path(landing_dir), Path(warehouse_path)
    marker = data_dir / DEMO_MARKER
    owned = set(json.loads(marker.read_text(encoding="utf-8"))["landing_files"]) if marker.exists() else set()
    present = (
        {str(p.relative_to(landing_dir)) for p in landing_dir.rglob("*") if p.is_file()}
        if landing_dir.is_dir()
        else set()
    )
    foreign = sorted(present - owned)
    if foreign:
        raise DemoRefused(
            f"the landing folder {landing_dir} holds {len(foreign)} file(s) the demo did not write "
            f"(e.g. {foreign[0]}); "
            "the demo never deletes real drops. Run it with another data folder: ALT911_DATA_DIR=data/demo make demo"
        )
    if warehouse_path.exists() and not marker.exists():
        raise DemoRefused(
            f"{warehouse_path} was not built by the demo; the demo never replaces a real warehouse. "
            "Run it with another data folder: ALT911_DATA_DIR=data/demo make demo"
        )
    return present


def record_demo_files(data_dir: Path, landing_dir: Path) -> None:
    """Remember which landing files the demo wrote, so a later demo may remove exactly those."""
    files = sorted(str(p.relative_to(landing_dir)) for p in Path(landing_dir).rglob("*") if p.is_file())
    (Path(data_dir) / DEMO_MARKER).write_text(json.dumps({"landing_files": files}, indent=0), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from orchestration.settings import load_settings

    settings = load_settings()
    defaults = DemoConfig()
    p = argparse.ArgumentParser(
        prog="python -m orchestration.demo.generate",
        description="Generate daily extract drops for a simulated city, plus the planted truth the marts "
        "must reproduce.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=settings.landing_dir,
        help="landing folder to write drops into (default: %(default)s)",
    )
    p.add_argument(
        "--truth", type=Path, default=None, help="planted-truth JSON path (default: <out>/../demo_truth.json)"
    )
    p.add_argument(
        "--seed", type=int, default=defaults.seed, help="random seed; same seed, same files (default: %(default)s)"
    )
    p.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=defaults.start,
        help="first day, YYYY-MM-DD (default: %(default)s)",
    )
    p.add_argument("--days", type=int, default=defaults.days, help="number of days (default: %(default)s)")
    p.add_argument("--years", type=float, default=None, help="alternative to --days: number of 365-day years")
    p.add_argument(
        "--population",
        type=int,
        default=defaults.population,
        help="city population; ~0.45 CAD incidents per person-year (default: %(default)s ≈ 130,000 incidents/year)",
    )
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
    print(
        f"generated {summary['incidents']:,} incidents in {summary['files']:,} files ({summary['rows']:,} rows) "
        f"in {summary['seconds']:.1f} s; planted truth: {summary['truth']}"
    )
    if "injections" in summary:
        print(f"bad input planted; record: {summary['injections']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
