"""Plant every class of bad input in generated drops, and record what was planted where.

Row-level problems are added as extra rows with keys of their own (so the clean planted truth still
holds once they are quarantined); file-level problems are added as extra files that re-send a drop's
data (so rejecting them loses nothing the truth counts). Each record says where the problem is and
how landing must treat it: `quarantine` (file, line, column, reason) or `reject` (file, problem).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

from orchestration.contract import Contract
from orchestration.demo.simulation import DemoConfig


def inject_bad_input(landing_dir: Path, cfg: DemoConfig, contract: Contract, fmt: str) -> list[dict]:
    day = cfg.start + dt.timedelta(days=min(cfg.days - 1, 2))
    folder = landing_dir / f"{day:%Y-%m-%d}"
    stamp = f"{day:%Y%m%d}"
    local_ts = f"{day:%Y-%m-%d}T10:00:00-05:00"
    later_ts = f"{day:%Y-%m-%d}T10:30:00-05:00"
    inc_cols = contract.extracts["cad_incidents"].column_names
    asg_cols = contract.extracts["cad_unit_assignments"].column_names

    def incident(number, **over):
        row = dict(
            incident_number=number,
            received_at=local_ts,
            call_origin="911_dispatch",
            initial_call_type="NOISE",
            priority="3",
            beat="D101",
        )
        row.update(over)
        return [row.get(c, "") for c in inc_cols]

    def assignment(aid, **over):
        row = dict(
            assignment_id=aid,
            incident_number="INJ-NONE",
            unit_id="P999",
            unit_type="police",
            dispatched_at=local_ts,
            unit_disposition="completed",
        )
        row.update(over)
        return [row.get(c, "") for c in asg_cols]

    planted = [
        (
            "cad_incidents",
            "unparseable_timestamp",
            "received_at",
            "unparseable timestamp",
            incident("INJ-TS-1", received_at="2023-02-30 25:61:00"),
        ),
        (
            "cad_incidents",
            "wrong_type",
            "priority",
            "wrong type: expected integer",
            incident("INJ-TYPE-1", priority="urgent"),
        ),
        ("cad_calls", "missing_key", "call_id", "missing key", ["", "INJ-NONE", local_ts, "911"]),
        (
            "cad_unit_assignments",
            "unknown_code",
            "unit_type",
            "unknown code",
            assignment("INJ-CODE-1", unit_type="drone"),
        ),
        (
            "cad_unit_assignments",
            "arrival_before_dispatch",
            "arrived_at",
            "arrived_at is before dispatched_at",
            assignment("INJ-ORDER-1", dispatched_at=later_ts, arrived_at=local_ts, cleared_at=later_ts),
        ),
    ]
    records = []
    for extract, klass, column, reason, row in planted:
        path = folder / f"{extract}_{stamp}.{fmt}"
        line = _append_row(path, row, fmt)
        records.append(
            dict(
                **{"class": klass},
                expect="quarantine",
                file=str(path.relative_to(landing_dir)),
                line=line,
                column=column,
                reason=reason,
            )
        )
    _refresh_manifest(folder)

    def resend(extract: str, suffix: str = "resend") -> tuple[Path, list[list[str]]]:
        """The drop's rows of an extract (CSV, any format) and the path of a re-send file."""
        rows = _read_rows(folder / f"{extract}_{stamp}.{fmt}", fmt)
        return folder / f"{extract}_{stamp}_{suffix}.csv", rows

    # missing column: a re-send of the calls without call_source
    path, rows = resend("cad_calls")
    drop = rows[0].index("call_source")
    _write_csv(path, [[v for i, v in enumerate(r) if i != drop] for r in rows])
    records.append(_reject(landing_dir, path, "missing_column", "missing column(s) 'call_source'"))
    # renamed column
    path, rows = resend("cm_referrals")
    rows[0] = ["referral_kind" if h == "referral_type" else h for h in rows[0]]
    _write_csv(path, rows)
    records.append(_reject(landing_dir, path, "renamed_column", "renamed?"))
    # empty file
    path = folder / f"rms_arrests_{stamp}_resend.csv"
    path.write_bytes(b"")
    records.append(_reject(landing_dir, path, "empty_file", "file is empty"))
    # truncated: cut in the middle of the last row
    path, rows = resend("cad_incidents")
    text = _csv_text(rows)
    cut = text.rstrip("\n").rfind("\n") + 1 + len(rows[-1][0]) + 3
    path.write_bytes(text[:cut].encode("utf-8"))
    records.append(_reject(landing_dir, path, "truncated_file", "truncated"))
    # wrong encoding: a Windows-1252 re-send with an accented name
    path, rows = resend("cm_people")
    if len(rows) > 1:
        rows[1][rows[0].index("first_name")] = "José"
    else:
        rows.append(["P9999999", "José"] + [""] * (len(rows[0]) - 2))
    path.write_bytes(_csv_text(rows).encode("cp1252", errors="replace"))
    records.append(_reject(landing_dir, path, "wrong_encoding", "wrong encoding"))
    # unknown extract
    path = folder / f"cad_narratives_{stamp}.csv"
    _write_csv(path, [["incident_number", "narrative"], ["INJ-NONE", "not an extract of the contract"]])
    records.append(_reject(landing_dir, path, "unknown_extract", "unknown extract name"))
    return records


def _reject(landing_dir: Path, path: Path, klass: str, problem: str) -> dict:
    return {"class": klass, "expect": "reject", "file": str(path.relative_to(landing_dir)), "problem": problem}


def _read_rows(path: Path, fmt: str) -> list[list[str]]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return [table.column_names] + [list(r.values()) for r in table.to_pylist()]
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = len([h for h in rows[0] if h != ""])
    return [r[:width] for r in rows]


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    path.write_bytes(_csv_text(rows).encode("utf-8"))


def _append_row(path: Path, row: list[str], fmt: str) -> int:
    """Append a row the way the extract job would have written it; return its line (CSV) or row number."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        values = zip(table.column_names, row, strict=False)
        extra = pa.table({name: pa.array([v], type=pa.string()) for name, v in values})
        table = pa.concat_tables([table, extra])
        pq.write_table(table, path)
        return table.num_rows
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    crlf = "\r\n" in text[:2000]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    for _ in reader:
        pass
    line = reader.line_num + 1
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerow(row + ([""] if header[-1] == "" else []))
    path.write_bytes(data + buf.getvalue().encode("utf-8"))
    return line


def _refresh_manifest(folder: Path) -> None:
    """The extract job wrote the bad rows itself, so its manifest counts them."""
    mpath = folder / "_manifest.json"
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        entry["rows"] = len(_read_rows(folder / name, "parquet" if name.endswith(".parquet") else "csv")) - 1
    mpath.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
