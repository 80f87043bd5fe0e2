"""Scaffold a new city folder: `python -m orchestration city new <folder> [--export FILE]`.

The folder gets a commented city.yml (copied from the demo city's, with its values to review), the rule
files with their headers and one example row each, and, given an export, a mapping template listing
every contract column beside the export's own columns. It prints what the user must fill in.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from orchestration.contract import load_contract
from orchestration.settings import DEMO_CITY_DIR

RULE_EXAMPLES = {  # file -> example row (the header is the demo city's)
    "eligible_call_types.csv": "myprogram,WELFARE CHECK,2024-01-01,,Example: replace with your CAD's call types",
    "call_types.csv": "WELFARE CHECK,Welfare check (non-urgent),WELFARE_CHECK",
    "service_area_beats.csv": "myprogram,BEAT1,2024-01-01,",
    "operating_hours.csv": "myprogram,1,08:00:00,20:00:00,2024-01-01,,Example: Monday 08-20 (ISO day 1 = Monday)",
    "police_time_parameters.csv": "myprogram,displacement_factor,1.0,ratio,2024-01-01,,Documented assumption",
}


def _export_columns(export: Path, delimiter: str = ",") -> list[str]:
    with open(export, encoding="utf-8-sig", newline="", errors="replace") as fh:
        return next(csv.reader(io.StringIO(fh.readline()), delimiter=delimiter), [])


def mapping_template(name: str, columns: list[str], city_tz: str) -> str:
    """A mapping naming every contract column of the incident and unit extracts, to fill in."""
    contract = load_contract()
    listed = ", ".join(columns) if columns else "(no export given)"
    lines = [
        f"description: {name} export. Say here what the export is and every judgement call the mapping makes.",
        f"city_tz: {city_tz}",
        "source:",
        "  header: true",
        '  delimiter: ","',
        "  encoding: utf-8            # utf-8, utf-16 or latin-1",
        '  null_tokens: [""]          # words that mean missing; per column: null_tokens_by_column: {Col: ["0:00"]}',
        f"# The export's columns: {listed}",
        "# Each contract column below takes a DuckDB SQL expression over them (quote names with spaces:",
        "# '\"Call Type\"'), or nothing for NULL. Helpers: us_date(d, pivot_year), clock_on(date, clock, ref_clock),",
        "# seconds_after(local_ts, secs): see docs/mapping-real-exports.md.",
        "outputs:",
    ]
    for extract in ("cad_incidents", "cad_unit_assignments"):
        e = contract.extracts[extract]
        lines += [f"  - extract: {extract}", "    columns:"]
        for c in e.columns:
            need = "required" if not c.nullable else "optional"
            kind = f"code from seeds/{c.codes}.csv" if c.codes else c.type
            lines.append(f"      {c.name}:{' ' * max(1, 26 - len(c.name))}# TODO {need}, {kind}")
    return "\n".join(lines) + "\n"


def scaffold(folder: Path, export: Path | None = None, delimiter: str = ",") -> list[str]:
    """Create the city folder; returns the list of things the user must fill in."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty; choose a new folder")
    (folder / "rules").mkdir(parents=True)
    (folder / "mappings").mkdir()
    template = (DEMO_CITY_DIR / "city.yml").read_text(encoding="utf-8")
    template = template.replace(
        "# The demo city: a simulated Durham-sized city running a HEART-like program (see docs/demo-data.md).",
        "# TODO: one line on the city, its program and its systems.",
    )
    template = template.replace("name: Demo city (simulated, HEART-like program)", "name: TODO city name")
    template = template.replace(
        "program: heart", "program: myprogram                 # TODO: the program column of rules/*.csv"
    )
    template = template.replace(
        "time_zone: America/New_York", "time_zone: TODO/Zone               # TODO: IANA zone, e.g. America/Denver"
    )
    (folder / "city.yml").write_text(template, encoding="utf-8")
    for name, example in RULE_EXAMPLES.items():
        header = (DEMO_CITY_DIR / "rules" / name).read_text(encoding="utf-8").splitlines()[0]
        (folder / "rules" / name).write_text(f"{header}\n{example}\n", encoding="utf-8")
    todo = [
        f"{folder / 'city.yml'}: name, program, time_zone, risk_screen, not_recorded (what your systems lack), "
        "thresholds",
        f"{folder / 'rules'}/*.csv: your eligible call types, call types, service-area beats, operating hours and "
        "police time assumptions (one example row each, to replace)",
    ]
    if export:
        columns = _export_columns(Path(export), delimiter)
        mapping = folder / "mappings" / f"{folder.name}_cad.yml"
        mapping.write_text(mapping_template(folder.name, columns, "TODO/Zone"), encoding="utf-8")
        todo.append(
            f"{mapping}: an expression for each TODO column ({len(columns)} export columns listed), "
            "and the outputs your export can feed"
        )
    todo.append(
        f"then: ALT911_CITY_DIR={folder} python -m orchestration.land.mapping <mapping> <export> --preview-only"
    )
    return todo
