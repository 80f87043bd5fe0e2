"""Read one extract file into strings, or reject it whole with one clear message.

File-level problems (empty, truncated, wrong encoding, missing or renamed columns, unknown extract,
checksum or row count not matching the drop's manifest) raise FileRejected: nothing from that file is
loaded. Row-level problems are not judged here; rows with the wrong number of fields are passed on
with a `shape_error` so that they end in quarantine like any other bad row.

Two readers, one result. The fast reader streams a file in blocks through Arrow's native CSV (or
Parquet) reader, so memory does not grow with the file. It reads only what it can read exactly as the
careful reader would: a header of exactly the contract's names, one row per line, no malformed quoting.
Anything else (blank lines, line breaks inside values, ragged rows, bad encoding, a truncated end) makes
it give way (`NotExact`) and the careful reader, Python's csv module over the whole file, reads the file
and names the problem with its line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from orchestration.contract import Extract

SUPPORTED_SUFFIXES = (".csv", ".parquet")


class FileRejected(Exception):
    """A whole file cannot be landed. The message names the file and the problem."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class NotExact(Exception):
    """The fast reader cannot promise the careful reader's result for this file: read it carefully."""


SCAN_BLOCK = 8 << 20  # bytes per read when scanning; also Arrow's block (a row must fit in one)
# A quote that closes a quoted value and is followed by more text, e.g. "abc"def or ""x: Python's csv
# (strict) refuses such a file, Arrow would read it as abcdef. Runs of quotes are judged by length:
# after a delimiter or line start an even run closes the value, elsewhere an odd one does.
_CLOSED_QUOTE_THEN_TEXT = re.compile(rb'(?:(?<=[,\r\n])(?:"")+|(?<=[^,\r\n"])"(?:"")*)[^,\r\n"]')


@dataclass
class FileScan:
    """What one streaming pass over a file's bytes tells: its checksum and whether the fast reader may read it."""

    checksum: str
    size: int
    newlines: int
    fast_readable: bool  # no NUL byte, no carriage return outside a CRLF, no closed quote followed by text
    has_quotes: bool  # without quotes no value holds a line break
    head: bytes  # the first block
    blank_line: bool  # a line end right after another (a carriage return between them at most)


def scan_file(path: Path) -> FileScan:
    digest = hashlib.sha256()
    size = newlines = returns = crlfs = 0
    fast_readable = True
    has_quotes = blank_line = False
    head = tail = b""
    with open(path, "rb") as f:
        while block := f.read(SCAN_BLOCK):
            head = head or block
            digest.update(block)
            size += len(block)
            # Python's csv counts a lone carriage return as a line end: line numbers would differ
            line_feeds, block_returns, block_crlfs, blank = _line_ends(block)
            newlines += line_feeds
            returns += block_returns
            crlfs += block_crlfs + (tail.endswith(b"\r") and block.startswith(b"\n"))  # one across two blocks
            blank_line = blank_line or blank or _has_blank_line(tail[-2:] + block[:2])
            quoted = b'"' in block
            has_quotes = has_quotes or quoted
            if fast_readable and (b"\x00" in block or (quoted and _CLOSED_QUOTE_THEN_TEXT.search(tail + block))):
                fast_readable = False
            tail = block[-64:]  # a quote run or a CRLF across two blocks
    return FileScan(
        digest.hexdigest(), size, newlines, fast_readable and returns == crlfs, has_quotes, head, blank_line
    )


def _line_ends(block: bytes) -> tuple[int, int, int, bool]:
    """A block's line feeds, carriage returns and CRLFs, and whether it holds a blank line. Byte searches for
    two-byte patterns run at about 1 GB/s; one pass of numpy over a day's file is seven times faster, but
    costs more than the searches on a small one."""
    if len(block) < 4096:
        return block.count(b"\n"), block.count(b"\r"), block.count(b"\r\n"), _has_blank_line(block)
    data = np.frombuffer(block, np.uint8)
    line_feeds, returns = np.flatnonzero(data == 10), np.flatnonzero(data == 13)
    crlfs = int(np.count_nonzero(data[returns[returns + 1 < len(data)] + 1] == 10))
    gaps = np.diff(line_feeds)
    blank = bool((gaps == 1).any() or ((gaps == 2) & (data[line_feeds[:-1] + 1] == 13)).any())
    return len(line_feeds), len(returns), crlfs, blank


def _has_blank_line(data: bytes) -> bool:
    return b"\n\n" in data or b"\n\r\n" in data


def read_carefully(path: Path, extract: Extract, data: bytes | None = None) -> pa.Table:
    """The whole file, read by Python's csv module (or pyarrow for Parquet): contract columns as strings,
    `_line` and `_shape_error`. Exact messages for every file-level problem. `data`: its bytes, if already
    read."""
    data = path.read_bytes() if data is None else data
    if not data:
        raise FileRejected(path, "file is empty (0 bytes); an extract with no rows still needs its header row")
    return _read_parquet(path, extract, data) if path.suffix.lower() == ".parquet" else _read_csv(path, extract, data)


def read_fast(path: Path, extract: Extract, scan: FileScan) -> Iterator[pa.Table]:
    """The file in blocks, read natively; raises NotExact (possibly after some blocks) when only the careful
    reader can promise the result. The caller discards the blocks it already took."""
    if scan.size == 0:  # the careful reader names an empty file
        raise NotExact
    if path.suffix.lower() == ".parquet":
        yield from _parquet_blocks(path, extract)
        return
    first, newline, _ = scan.head.partition(b"\n")
    if not scan.fast_readable or not newline or b'"' in first:
        raise NotExact
    try:
        header = first.decode("utf-8-sig").removesuffix("\r").split(",")
    except UnicodeDecodeError:
        raise NotExact from None
    if header[-1] == "" and len(header) > 1:
        header[-1] = "_trailing_delimiter"  # every row then ends in an empty field, checked below
    names = [h for h in header if h != "_trailing_delimiter"]
    if sorted(names) != sorted(extract.column_names):  # spaces, duplicates, renames: the careful reader says
        raise NotExact
    rows = embedded = 0
    # A file within one scan block (a day's extract) is parsed from the bytes the scan checksummed, on this
    # thread: opening it again and starting Arrow's threads cost more than parsing its few hundred rows.
    whole = len(scan.head) == scan.size
    try:
        reader = pa_csv.open_csv(
            pa.BufferReader(scan.head) if whole else path,
            read_options=pa_csv.ReadOptions(
                column_names=header, skip_rows=1, block_size=SCAN_BLOCK, use_threads=not whole
            ),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            block = pa.Table.from_batches([batch])
            if len(names) < len(header) and pc.any(pc.not_equal(block["_trailing_delimiter"], "")).as_py():
                raise NotExact  # a value after the trailing delimiter: the careful reader quarantines the row
            if block.column_names != extract.column_names:
                block = block.select(extract.column_names)
            count = block.num_rows
            first = 2 + rows + embedded
            lines = pa.array(np.arange(first, first + count, dtype=np.int64))
            # a row starts on the line after the previous row's last line; only a column whose bytes hold
            # a line break can move it (looking at the bytes costs far less than counting per value)
            broken = [c for c in block.columns if any(b"\n" in _data(k) for k in c.chunks)] if scan.has_quotes else []
            if broken:
                breaks = pa.chunked_array([pa.repeat(pa.scalar(0, pa.int64()), count)])
                for column in broken:
                    breaks = pc.add(breaks, pc.count_substring(column, "\n").cast(pa.int64()))
                lines = pc.add(lines, pc.subtract(pc.cumulative_sum(breaks), breaks))
                embedded += pc.sum(breaks).as_py() or 0
            block = block.append_column("_line", lines)
            yield block.append_column("_shape_error", pa.nulls(count, type=pa.string()))
            rows += count
    except pa.ArrowException:  # a ragged row, bad UTF-8: the careful reader names it
        raise NotExact from None
    # The line numbers hold only if every row ends with exactly one line end: a blank line, or a last row
    # without its line end (a truncated file), makes the count differ.
    if rows + embedded + 1 != scan.newlines:
        raise NotExact


def plain_rows(path: Path, extract: Extract, scan: FileScan) -> int | None:
    """The rows of a file that read_together may parse with others, else None. Such a file is a day's extract
    at its plainest: whole in the scan's first block, valid UTF-8, a header (after a byte-order mark, if
    any) of exactly the contract's columns in the contract's order (and at most a trailing delimiter), no
    quote at all (so no line break inside a value), no blank line and every line ended. Each of its lines
    after the header is then one row, whatever the row holds."""
    head = scan.head
    if len(head) != scan.size or not scan.fast_readable or scan.has_quotes or path.suffix.lower() != ".csv":
        return None
    if b"\n" not in head or not head.endswith(b"\n") or plain_header(scan) not in _plain_headers(extract):
        return None
    if scan.blank_line:
        return None
    try:
        head.isascii() or head.decode("utf-8")  # else the careful reader rejects the file, and must have it alone
    except UnicodeDecodeError:
        return None
    return scan.newlines - 1


_BOM = "\ufeff".encode()  # UTF-8's byte-order mark, which the careful reader drops (utf-8-sig)


def plain_header(scan: FileScan) -> bytes:
    """A file's header line without its byte-order mark and line end: files parsed together share it."""
    return scan.head[: scan.head.find(b"\n")].removeprefix(_BOM).removesuffix(b"\r")  # no copy of the rest


def _plain_headers(extract: Extract) -> tuple[bytes, bytes]:
    header = ",".join(extract.column_names).encode()
    return header, header + b","  # the second: every row ends in an empty field, checked in read_together


def read_together(scans: list[FileScan], extract: Extract) -> pa.Table | None:
    """The rows of several files that plain_rows accepted, all with one plain_header, parsed in one Arrow call
    (one call per file cost more than parsing a day's few hundred rows): contract columns as strings,
    `_line` (each file's own) and `_shape_error`, file after file. None when Arrow cannot read them all as
    the careful reader would (a row with a field too many or too few, a value after a trailing
    delimiter): read each alone, and the careful reader names the row."""
    header = plain_header(scans[0])
    names = extract.column_names + (["_trailing_delimiter"] if header.endswith(b",") else [])
    rows = np.array([scan.newlines - 1 for scan in scans], dtype=np.int64)
    total = int(rows.sum())
    bodies = [memoryview(scan.head)[scan.head.index(b"\n") + 1 :] for scan in scans]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(b"".join([header, b"\n", *bodies])),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:
        return None
    if table.num_rows != total:  # cannot happen for plain files; read alone rather than misnumber a line
        return None
    if len(names) > len(extract.column_names):
        if pc.any(pc.not_equal(table["_trailing_delimiter"], "")).as_py():
            return None
        table = table.drop_columns(["_trailing_delimiter"])
    starts = np.repeat(np.cumsum(rows) - rows, rows)
    lines = pa.array(np.arange(total, dtype=np.int64) - starts + 2)
    return table.append_column("_line", lines).append_column("_shape_error", pa.nulls(total, type=pa.string()))


def _data(strings: pa.Array) -> bytes:
    """The bytes of a string array's values (its third buffer; a slice's may hold more, never less)."""
    buffer = strings.buffers()[2]
    return buffer.to_pybytes() if buffer is not None else b""


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
    return _parquet_as_text(path, extract, table, first_row=1)


def _parquet_blocks(path: Path, extract: Extract) -> Iterator[pa.Table]:
    """A Parquet file one row group batch at a time; a damaged file is rejected (not NotExact: Parquet has
    no second reader), and the caller discards blocks already taken."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        _check_header(path, extract, [name.strip() for name in parquet.schema_arrow.names])
        rows = 0
        for batch in parquet.iter_batches(batch_size=200_000):
            table = pa.Table.from_batches([batch])
            yield _parquet_as_text(path, extract, table, first_row=rows + 1)
            rows += table.num_rows
    except FileRejected:
        raise
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise FileRejected(path, f"not a readable Parquet file (truncated or corrupt?): {exc}") from None


def _parquet_as_text(path: Path, extract: Extract, table: pa.Table, first_row: int) -> pa.Table:
    arrays = {}
    for name in extract.column_names:
        try:
            arrays[name] = _as_text(table.column(name))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # e.g. bytes that are not UTF-8
            raise FileRejected(path, f"column {name!r} cannot be read as text: {exc}") from None
    arrays["_line"] = pa.array(range(first_row, first_row + table.num_rows), type=pa.int64())
    arrays["_shape_error"] = pa.nulls(table.num_rows, type=pa.string())
    return pa.table(arrays)


def _as_text(col):
    """A Parquet column as the strings landing validates."""
    if pa.types.is_timestamp(col.type):
        # Typed timestamps keep their meaning: with a zone -> ISO with offset, without -> local time.
        # Any unit (pandas writes nanoseconds): to microseconds, the contract's finest.
        fmt = "%Y-%m-%dT%H:%M:%S%z" if col.type.tz else "%Y-%m-%dT%H:%M:%S"
        col = pc.strftime(col.cast(pa.timestamp("us", tz=col.type.tz), safe=False), format=fmt)
    elif pa.types.is_boolean(col.type):
        col = pc.if_else(col, "true", "false")
    return col.cast(pa.string())
