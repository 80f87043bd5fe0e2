"""Write the simulation out as daily extract drops, the way real extract jobs deliver them.

Drop D (folder YYYY-MM-DD) is extracted at 02:00 local on the next morning and shows each record as it
was known then: CAD re-sends the previous day's incidents (so drops overlap and late clears arrive as
updates); case management sends what was created or changed that day (an encounter is re-sent when its
case is closed); follow-ups arrive on the day they happen. Each source system has its own export
dialect, as in real life: CAD writes CRLF with a byte-order mark, RMS a trailing delimiter and US
12-hour local times, the roster local times without an offset, case management narratives with
quoted commas and newlines.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.contract import Contract


@dataclass(frozen=True)
class Dialect:
    line_end: str = "\n"
    bom: bool = False
    trailing_delimiter: bool = False
    timestamp: str = "iso_offset"  # or a strftime format for local wall-clock time
    true_false: tuple[str, str] = ("true", "false")


DIALECTS = {
    "cad": Dialect(line_end="\r\n", bom=True, true_false=("Y", "N")),
    "roster": Dialect(timestamp="%Y-%m-%d %H:%M"),
    "cm": Dialect(timestamp="iso_offset_ms"),
    "rms": Dialect(trailing_delimiter=True, timestamp="%m/%d/%Y %I:%M:%S %p"),
}
SYSTEM_OF = {
    "cad_incidents": "cad",
    "cad_calls": "cad",
    "cad_unit_assignments": "cad",
    "program_shifts": "roster",
    "rms_arrests": "rms",
}


class DropWriter:
    def __init__(self, landing_dir: Path, contract: Contract, city_tz: str, fmt: str = "csv"):
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"format must be csv or parquet, not {fmt!r}")
        self.landing_dir = Path(landing_dir)
        self.contract = contract
        self.tz = ZoneInfo(city_tz)
        self.fmt = fmt
        self.files_written = 0
        self.rows_written = 0

    def extract_time(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2, 0), self.tz).astimezone(dt.UTC)

    def write_drop(self, day: dt.date, tables: dict[str, list[dict]], as_of: dt.datetime) -> Path:
        folder = self.landing_dir / f"{day:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {
            "extract_job": "alt911-demo-generator",
            "extracted_at": as_of.astimezone(self.tz).isoformat(),
            "files": {},
        }
        for name, extract in self.contract.extracts.items():
            dialect = DIALECTS[SYSTEM_OF.get(name, "cm")]
            rows = [
                [self.format(rec.get(col.name), col.type, dialect) for col in extract.columns]
                for rec in tables.get(name, [])
            ]
            path = folder / f"{name}_{day:%Y%m%d}.{self.fmt}"
            data = self.encode(extract.column_names, rows, dialect)
            path.write_bytes(data)
            manifest["files"][path.name] = {"rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}
            self.files_written += 1
            self.rows_written += len(rows)
        (folder / "_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return folder

    def format(self, value, type_: str, dialect: Dialect) -> str:
        if value is None:
            return ""
        if type_ == "timestamp":
            local = value.astimezone(self.tz)
            if dialect.timestamp == "iso_offset":
                return local.isoformat()
            if dialect.timestamp == "iso_offset_ms":
                return local.isoformat(timespec="milliseconds")
            return local.strftime(dialect.timestamp)
        if type_ == "boolean":
            return dialect.true_false[0] if value else dialect.true_false[1]
        if type_ == "date":
            return value.isoformat()
        return str(value)

    def encode(self, header: list[str], rows: list[list[str]], dialect: Dialect) -> bytes:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = list(zip(*rows, strict=False)) if rows else [()] * len(header)
            table = pa.table({h: pa.array(col, type=pa.string()) for h, col in zip(header, columns, strict=False)})
            buf = io.BytesIO()
            pq.write_table(table, buf)
            return buf.getvalue()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=dialect.line_end)
        extra = [""] if dialect.trailing_delimiter else []
        writer.writerow(header + extra)
        for row in rows:
            writer.writerow(row + extra)
        text = ("\ufeff" if dialect.bom else "") + buf.getvalue()
        return text.encode("utf-8")


def as_of_incident(inc: dict, now: dt.datetime) -> tuple[dict, list[dict], list[dict]]:
    """An incident, its calls and its unit assignments as the CAD replicate showed them at time t."""
    closed = inc["closed_at"] is not None and inc["closed_at"] <= now
    head = dict(
        inc,
        closed_at=inc["closed_at"] if closed else None,
        disposition_code=inc["disposition_code"] if closed else None,
        final_call_type=inc["final_call_type"] if closed else None,
    )
    calls = [c for c in inc["_calls"] if c["call_received_at"] <= now]
    units = []
    for u in inc["_units"]:
        if u["dispatched_at"] > now:
            continue
        u = {k: (v if not isinstance(v, dt.datetime) or v <= now else None) for k, v in u.items()}
        if u["cleared_at"] is None:
            u["unit_disposition"] = None
        units.append(u)
    return head, calls, units


def as_of_encounter(enc: dict, now: dt.datetime) -> dict:
    """An encounter as the case-management export showed it at time t (outcome only once the case is closed)."""
    closed = enc["_closed_at"] <= now
    out = {k: (v if not isinstance(v, dt.datetime) or v <= now else None) for k, v in enc.items()}
    if out["police_backup_requested_at"] is None:
        out["police_backup_reason"] = None
    if out["ems_requested_at"] is None:
        out["ems_request_reason"] = None
    if not closed:
        out["primary_outcome"] = None
    out["updated_at"] = enc["_closed_at"] if closed else enc["started_at"]
    return out
