"""Generate demo extract drops and their planted truth."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

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
    replace: bool = False,
    progress: Callable[[str], None] = print,
) -> dict:
    """Write drops for cfg's period into landing_dir and the planted truth to truth_path.
    With inject=True, also plant every class of bad input (see inject.py) and record it beside the truth."""
    started = time.monotonic()
    landing_dir, truth_path = Path(landing_dir), Path(truth_path)
    if landing_dir.exists() and any(landing_dir.iterdir()):
        if not replace:
            raise FileExistsError(f"landing folder {landing_dir} is not empty; pass replace=True (--replace) to start over")
        shutil.rmtree(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)

    contract = load_contract()
    rules = ProgramRules.load(cfg.program)
    writer = DropWriter(landing_dir, contract, cfg.city_tz, fmt)
    last_drop = cfg.end + dt.timedelta(days=cfg.trailing_drop_days)
    truth = Truth(cfg.start, cfg.end, writer.extract_time(last_drop),
                  rules.police_parameter("displacement_factor", cfg.end))
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
        tables["cm_encounters"] = list({e["encounter_id"]: as_of_encounter(e, as_of)
                                        for e in cm.get("cm_encounters", [])}.values())
        tables["cm_people"] = list({p["person_id"]: p for p in cm.get("cm_people", [])}.values())
        for name in ("cm_referrals", "cm_transports", "cm_follow_ups", "rms_arrests"):
            tables[name] = cm.get(name, [])
        writer.write_drop(day, tables, as_of)
        sim.incidents_by_day.pop(day - dt.timedelta(days=1), None)
        if day.day == 1 or day == last_drop:
            progress(f"generate: drops written through {day} ({writer.files_written:,} files, {writer.rows_written:,} rows)")
        day += dt.timedelta(days=1)

    config = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(cfg).items()}
    config.update(end=cfg.end.isoformat(), format=fmt, last_drop=last_drop.isoformat())
    result = truth.result(sim.tz, config)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(result, indent=1, sort_keys=False), encoding="utf-8")
    summary = dict(files=writer.files_written, rows=writer.rows_written, incidents=result["volume"]["incidents"],
                   seconds=time.monotonic() - started, truth=str(truth_path))
    if inject:
        from orchestration.demo.inject import inject_bad_input

        injections = inject_bad_input(landing_dir, cfg, contract, fmt)
        path = truth_path.with_name(truth_path.stem + "_injections.json")
        path.write_text(json.dumps(injections, indent=1), encoding="utf-8")
        summary["injections"] = str(path)
    return summary
