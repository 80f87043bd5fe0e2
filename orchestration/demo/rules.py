"""The demo program's effective-dated rules, read from the demo city folder's rules/ that dbt uses.

The generator needs them to decide what a dispatcher would do; the seeds are configuration, not metric
logic, so reading them here does not duplicate the dbt models (which compute the metrics themselves).
A rule is in force on local dates valid_from..valid_to, both inclusive; an empty valid_to is open.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import DEMO_CITY_DIR


def _read(name: str, seeds_dir: Path) -> list[dict]:
    with open(seeds_dir / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _in_force(row: dict, day: dt.date) -> bool:
    start = dt.date.fromisoformat(row["valid_from"])
    end = dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else dt.date.max
    return start <= day <= end


@dataclass
class ProgramRules:
    program: str
    eligible: list[dict]
    beats: list[dict]
    hours: list[dict]
    call_types: list[str]
    police_parameters: list[dict]

    @classmethod
    def load(cls, program: str = "heart", seeds_dir: Path = DEMO_CITY_DIR / "rules") -> ProgramRules:
        def mine(rows):
            return [r for r in rows if r["program"] == program]

        return cls(
            program=program,
            eligible=mine(_read("eligible_call_types", seeds_dir)),
            beats=mine(_read("service_area_beats", seeds_dir)),
            hours=mine(_read("operating_hours", seeds_dir)),
            call_types=[r["call_type"] for r in _read("call_types", seeds_dir)],
            police_parameters=mine(_read("police_time_parameters", seeds_dir)),
        )

    def eligible_types(self, day: dt.date) -> frozenset[str]:
        return frozenset(r["call_type"] for r in self.eligible if _in_force(r, day))

    def service_beats(self, day: dt.date) -> frozenset[str]:
        return frozenset(r["beat"] for r in self.beats if _in_force(r, day))

    def hours_on(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Operating window (local start inclusive, end exclusive) on a local date, or None."""
        for r in self.hours:
            if int(r["day_of_week"]) == day.isoweekday() and _in_force(r, day):
                return dt.time.fromisoformat(r["start_time"]), dt.time.fromisoformat(r["end_time"])
        return None

    def police_parameter(self, name: str, day: dt.date) -> float:
        for r in self.police_parameters:
            if r["parameter"] == name and _in_force(r, day):
                return float(r["value"])
        raise KeyError(f"no police time parameter {name!r} in force on {day}")
