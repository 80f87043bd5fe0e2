"""Read one extract file into strings, or reject it whole with one clear message.

File-level problems (empty, truncated, wrong encoding, missing or renamed columns, unknown extract,
checksum or row count not matching the drop's manifest) raise FileRejected: nothing from that file is
loaded. Row-level problems are not judged here; rows with the wrong number of fields are passed on
with a `shape_error` so that they end in quarantine like any other bad row.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from orchestration.contract import Extract

SUPPORTED_SUFFIXES = (".csv", ".parquet")


class FileRejected(Exception):
    """A whole file cannot be landed. The message names the file and the problem."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass
class ParsedFile:
    path: Path
    extract: Extract
    checksum: str
    table: pa.Table  # contract columns as strings + _line (int) + _shape_error (string)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_extract_file(path: Path, extract: Extract, data: bytes, expected_rows: int | None = None) -> ParsedFile:
    """Parse `data` (the bytes of `path`) as a file of `extract`."""
    if not data:
        raise FileRejected(path, "file is empty (0 bytes); an extract with no rows still needs its header row")
    table = _read_parquet(path, extract, data) if path.suffix.lower() == ".parquet" else _read_csv(path, extract, data)
    if expected_rows is not None and table.num_rows != expected_rows:
        raise FileRejected(
            path,
            f"truncated or incomplete: the drop's manifest says it has {expected_rows:,} row(s), "
            f"the file has {table.num_rows:,}",
        )
    return ParsedFile(path=path, extract=extract, checksum=sha256_of(data), table=table)


def _check_header(path: Path, extract: Extract, header: list[str]) -> None:
    expected = extract.column_names
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if len(missing) == len(expected):  # likely no header row: its first line may be personal data
        raise FileRejected(
            path,
            f"no header row: none of the {len(expected)} column names of {extract.name} is in the "
            f"first line, which has {len(header)} fields (its values are not shown; they may "
            f"be personal data); the contract expects {expected}",
        )
    problems = []
    if missing:
        problems.append("missing column(s) " + ", ".join(repr(c) for c in missing))
    if unexpected:
        problems.append("unexpected column(s) " + ", ".join(repr(c) for c in unexpected))
    if duplicated:
        problems.append("duplicated column(s) " + ", ".join(repr(c) for c in duplicated))
    if problems:
        hint = " (renamed?)" if missing and unexpected else ""
        raise FileRejected(path, "; ".join(problems) + hint + f"; the contract for {extract.name} expects {expected}")


def _read_csv(path: Path, extract: Extract, data: bytes) -> pa.Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            path,
            f"wrong encoding: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8 "
            "(the contract requires UTF-8; re-export the file as UTF-8)",
        ) from None
    if "\x00" in text:
        raise FileRejected(
            path, "wrong encoding: the file contains NUL bytes (UTF-16 or binary?); the contract requires UTF-8"
        )

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected(path, "file has no header row") from None
    except csv.Error as exc:
        raise FileRejected(path, f"unreadable CSV header: {exc}") from None
    header = [h.strip() for h in header]
    trailing_delimiter = len(header) > 1 and header[-1] == ""
    if trailing_delimiter:
        header = header[:-1]
    _check_header(path, extract, header)

    width = len(header)
    positions = [header.index(c) for c in extract.column_names]
    lines: list[int] = []
    shape_errors: list[str | None] = []
    records: list[list[str]] = []
    last_line = 1
    try:
        for record in reader:
            start_line = last_line + 1
            last_line = reader.line_num
            if not record:  # a blank line is not a row
                continue
            if len(record) == width + 1 and record[-1] == "":
                record = record[:-1]  # trailing delimiter
            if len(record) == width:
                shape_errors.append(None)
            else:
                shape_errors.append(f"row has {len(record)} fields; the header has {width}")
                record = (record + [""] * width)[:width]
            records.append(record)
            lines.append(start_line)
    except csv.Error as exc:
        raise FileRejected(path, f"truncated or malformed CSV near line {reader.line_num}: {exc}") from None

    # The contract ends every row with a line end, the last one too: a file cut short right after a
    # delimiter has the right number of fields and would load with empty values, so no line end = cut.
    if records and not text.endswith(("\n", "\r")):
        shape = "is incomplete" if shape_errors[-1] is not None else "has no line end"
        raise FileRejected(
            path,
            f"truncated: the last row (line {lines[-1]}) {shape}; the contract ends every row with a line "
            "end, so a file without one was cut short (re-send it whole)",
        )

    columns = list(zip(*records, strict=False)) if records else [()] * width
    named = zip(extract.column_names, positions, strict=False)
    arrays = {name: pa.array(columns[pos], type=pa.string()) for name, pos in named}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    arrays["_shape_error"] = pa.array(shape_errors, type=pa.string())
    return pa.table(arrays)


def _read_parquet(path: Path, extract: Extract, data: bytes) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise FileRejected(path, f"not a readable Parquet file (truncated or corrupt?): {exc}") from None
    _check_header(path, extract, [name.strip() for name in table.column_names])

    arrays = {}
    for name in extract.column_names:
        try:
            arrays[name] = _as_text(table.column(name))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # e.g. bytes that are not UTF-8
            raise FileRejected(path, f"column {name!r} cannot be read as text: {exc}") from None
    arrays["_line"] = pa.array(range(1, table.num_rows + 1), type=pa.int64())
    arrays["_shape_error"] = pa.nulls(table.num_rows, type=pa.string())
    return pa.table(arrays)


def _as_text(col):
    """A Parquet column as the strings landing validates."""
    import pyarrow.compute as pc

    if pa.types.is_timestamp(col.type):
        # Typed timestamps keep their meaning: with a zone -> ISO with offset, without -> local time.
        # Any unit (pandas writes nanoseconds): to microseconds, the contract's finest.
        fmt = "%Y-%m-%dT%H:%M:%S%z" if col.type.tz else "%Y-%m-%dT%H:%M:%S"
        col = pc.strftime(col.cast(pa.timestamp("us", tz=col.type.tz), safe=False), format=fmt)
    elif pa.types.is_boolean(col.type):
        col = pc.if_else(col, "true", "false")
    return col.cast(pa.string())
