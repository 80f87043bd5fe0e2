"""Land extract drops from the landing folder into DuckDB raw tables, losing and duplicating nothing.

- `land.file_ledger`: one row per landed file (path, checksum, rows read / loaded / quarantined).
  A file already there with the same path and checksum is skipped, so landing twice changes nothing;
  a file changed in place is landed again as a new version. The file's stat signature (size, times,
  inode) is kept too: a file whose signature is unchanged is skipped without being read again, which
  keeps a run with nothing new cheap. Any write to a file changes its ctime, which no tool can set
  back, so an edited file is always read.
- `land.quarantine`: one row per rejected row, with file, line, column, reason and the row as sent.
- `land.rejected_files`: whole files refused for a file-level problem; nothing from them is loaded.
- `raw.<extract>`: one row per key. An overlapping re-send replaces the stored row only when it comes
  from a drop extracted at the same time or later, so landing order does not matter.

Files are read natively in blocks (reader.py; a file only the careful Python reader can read exactly
is read by it), staged in DuckDB temporary tables, validated in DuckDB (row level) and written in
batches. Each batch is one transaction holding the files' rows, quarantine and ledger entries; for each
file, rows read must equal rows loaded plus rows quarantined or nothing is written. Memory does not
grow with a file's size: Python holds a batch of files (about BATCH_ROWS rows) but at most STAGE_ROWS
rows of a large file (then its blocks go to DuckDB as they are read), and DuckDB, limited to
`memory_limit`, spills its temporary tables to disk. Validation
writes only temporary tables, so it runs before the batch's transaction (DuckDB cannot spill the
uncommitted temporary tables of an open transaction as freely). The exception is a file only the
careful reader can read (reader.py): Python's csv module reads it whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.contract import SQL_TYPES, Contract, Extract, load_contract
from orchestration.land.reader import (
    SUPPORTED_SUFFIXES,
    FileRejected,
    FileScan,
    NotExact,
    plain_header,
    plain_rows,
    read_carefully,
    read_fast,
    read_together,
    scan_file,
)
from orchestration.land.validate import RowRules, lit, q, record_sql, validation_sql

MANIFEST_NAME = "_manifest.json"
# A file of this many rows or more is large: its rows go to DuckDB this many at a time, with what its extract's
# stage holds (a few hundred MB); smaller files stay in Python until their batch is written.
STAGE_ROWS = 500_000
# Rows per batch (one transaction; a file is never split). At ten city-years landed at once, batches of
# 400,000 rows took 10% more CPU than these (26 transactions against 7, each with its statements), and
# these hold about 0.4 GB more; with a batch's small files held in Python until it is written, landing's
# peak is 1.6-1.7 GB (the full ten-year run's 2.0 GB). An hourly run's few files are one batch either way.
BATCH_ROWS = 1_500_000


class ReconciliationError(RuntimeError):
    """Rows read != rows loaded + rows quarantined for a file: the batch was rolled back."""


@dataclass
class FileResult:
    path: str
    extract: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


@dataclass
class LandingReport:
    landed: list[FileResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already landed (same checksum)
    waiting: list[str] = field(default_factory=list)  # changed within the settle time: left for the next run
    rejected: list[FileRejected] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)  # rows in each raw table afterwards
    # per extract: earliest and latest value of its first timestamp column among the rows loaded now
    date_ranges: dict[str, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)
    seconds: float = 0.0

    def add_range(self, extract: str, low, high) -> None:
        if low is None:
            return
        old = self.date_ranges.get(extract)
        self.date_ranges[extract] = (min(old[0], low), max(old[1], high)) if old else (low, high)

    def per_extract(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = defaultdict(lambda: dict(files=0, read=0, loaded=0, quarantined=0))
        for r in self.landed:
            t = totals[r.extract]
            t["files"] += 1
            t["read"] += r.rows_read
            t["loaded"] += r.rows_loaded
            t["quarantined"] += r.rows_quarantined
        return dict(totals)

    def summary(self) -> str:
        lines = [
            _table(self.per_extract(), self.table_rows, self.date_ranges),
            f"{len(self.landed)} file(s) landed, {len(self.skipped)} already landed (skipped), "
            f"{len(self.rejected)} rejected, {len(self.waiting)} left for the next run "
            f"(changed within the settle time), in {self.seconds:.1f} s",
        ]
        lines += [f"  REJECTED {rej.path}: {rej.problem}" for rej in self.rejected]
        lines += [f"  WAITING  {rel}: changed moments ago (still being written?)" for rel in self.waiting]
        return "\n".join(lines)


def _table(per: dict[str, dict[str, int]], table_rows: dict[str, int], ranges: dict | None = None) -> str:
    """Rows per raw table, with the UTC date range of the rows (a wrong century shows at a glance)."""
    ranges = ranges or {}
    lines = [
        f"{'table':<24}{'files':>7}{'rows read':>12}{'loaded':>12}{'quarantined':>13}{'rows in raw':>13}  dates (UTC)"
    ]
    for name in sorted(set(per) | set(table_rows)):
        t = per.get(name, dict(files=0, read=0, loaded=0, quarantined=0))
        low, high = ranges.get(name, (None, None))
        span = f"  {low:%Y-%m-%d} .. {high:%Y-%m-%d}" if low else ""
        lines.append(
            f"{name:<24}{t['files']:>7}{t['read']:>12,}{t['loaded']:>12,}{t['quarantined']:>13,}"
            f"{table_rows.get(name, 0):>13,}{span}"
        )
    return "\n".join(lines)


def file_signature(path: Path) -> str | None:
    """What changes whenever a file is written, replaced or moved: size, modification and change times
    (nanoseconds) and inode. None for a file changed in the last two seconds: the kernel's clock ticks
    coarsely, so a second write in the same tick could leave the times as they were (as git does, such
    a file is simply read again next time)."""
    st = path.stat()
    if time.time() - st.st_ctime < 2:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _signature_now(path: Path) -> str | None:
    try:
        return file_signature(path)
    except OSError:  # gone since it was read
        return None


def time_column(extract: Extract) -> str | None:
    """The column whose range tells when an extract's rows happened: its first timestamp column."""
    return next((c.name for c in extract.columns if c.type == "timestamp"), None)


def warehouse_summary(warehouse_path: Path, contract: Contract | None = None) -> str:
    """What the warehouse holds, from its ledger: per raw table, everything ever landed."""
    contract = contract or load_contract()
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        per = {
            name: dict(files=f, read=r, loaded=lo, quarantined=qu)
            for name, f, r, lo, qu in con.execute(
                "SELECT extract, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
                "FROM land.file_ledger GROUP BY extract"
            ).fetchall()
        }
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        ]
        table_rows = {t: con.execute(f"SELECT count(*) FROM raw.{q(t)}").fetchone()[0] for t in tables}
        ranges = {}
        for t in tables:
            column = time_column(contract.extracts[t]) if t in contract.extracts else None
            if column:
                low, high = con.execute(f"SELECT min({q(column)}), max({q(column)}) FROM raw.{q(t)}").fetchone()
                if low is not None:
                    ranges[t] = (low, high)
        rejected = con.execute(
            "SELECT path, problem FROM land.rejected_files r WHERE NOT EXISTS "
            "(SELECT 1 FROM land.file_ledger l WHERE l.path = r.path AND l.checksum = r.checksum) ORDER BY path"
        ).fetchall()
        quarantine = con.execute(
            # one line per rule: the numbers in a reason (minutes, dates) differ row by row
            "SELECT extract, regexp_replace(split_part(reason, ';', 1), '[0-9][0-9.:-]*', '#', 'g') AS reason, "
            "count(*) "
            "FROM land.quarantine GROUP BY ALL ORDER BY 3 DESC LIMIT 10"
        ).fetchall()
    finally:
        con.close()
    lines = ["Landed into the warehouse (all runs):", _table(per, table_rows, ranges)]
    if quarantine:
        lines.append("Quarantined rows by reason (land.quarantine has file, line, column and the row as sent):")
        lines += [f"  {n:>8,}  {extract}: {reason}" for extract, reason, n in quarantine]
    if rejected:
        lines.append(f"Rejected files ({len(rejected)}; nothing loaded from them, see land.rejected_files):")
        lines += [f"  {path}: {problem}" for path, problem in rejected]
    return "\n".join(lines)


# The files a gate judges: landed after `since`, and still the current version of their path.
_UNPUBLISHED = """
    SELECT * FROM land.file_ledger l WHERE l.landed_at > ? AND NOT EXISTS (
        SELECT 1 FROM land.file_ledger n WHERE n.path = l.path AND n.landed_at > l.landed_at)"""


def quarantine_since(warehouse_path: Path, since: dt.datetime, limit: int = 20) -> dict[str, dict]:
    """Per extract: rows read and quarantined in the files landed since `since` (the last publish) that are
    still current, and the first quarantined rows as `file:line: reason` (no row values: they may be
    personal). Gates judge this state, not one landing: a rerun with nothing new judges the same rows."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        out = {
            extract: dict(read=read, quarantined=quarantined, examples=[])
            for extract, read, quarantined in con.execute(
                f"SELECT extract, sum(rows_read), sum(rows_quarantined) FROM ({_UNPUBLISHED}) GROUP BY extract", [since]
            ).fetchall()
        }
        for extract, path, line, reason in con.execute(
            f"SELECT q.extract, q.path, q.line, q.reason FROM land.quarantine q JOIN ({_UNPUBLISHED}) f "
            "ON f.path = q.path AND f.checksum = q.checksum "
            "QUALIFY row_number() OVER (PARTITION BY q.extract ORDER BY q.path, q.line) <= ? ORDER BY ALL",
            [since, limit],
        ).fetchall():
            out[extract]["examples"].append(f"{path}:{line}: {reason}")
    finally:
        con.close()
    return out


# --------------------------------------------------------------------------------------------- DDL


def ensure_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS land; CREATE SCHEMA IF NOT EXISTS raw;")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS land.file_ledger (
            path VARCHAR NOT NULL, extract VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
            extracted_at TIMESTAMP NOT NULL, rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL, landed_at TIMESTAMP NOT NULL);
        ALTER TABLE land.file_ledger ADD COLUMN IF NOT EXISTS file_signature VARCHAR;
        CREATE TABLE IF NOT EXISTS land.quarantine (
            path VARCHAR NOT NULL, extract VARCHAR NOT NULL, checksum VARCHAR NOT NULL, line BIGINT NOT NULL,
            column_name VARCHAR, reason VARCHAR NOT NULL, record VARCHAR NOT NULL, landed_at TIMESTAMP NOT NULL);
        CREATE TABLE IF NOT EXISTS land.rejected_files (
            path VARCHAR NOT NULL, checksum VARCHAR NOT NULL, problem VARCHAR NOT NULL, seen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (path, checksum));
        """
    )
    for e in contract.extracts.values():
        cols = ", ".join(f"{q(c.name)} {SQL_TYPES[c.type]}" for c in e.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS raw.{q(e.name)} ({cols}, _extracted_at TIMESTAMP NOT NULL, "
            "_source_file VARCHAR NOT NULL, _source_line BIGINT NOT NULL, _landed_at TIMESTAMP NOT NULL)"
        )
    columns = dict(  # one query: each information_schema query costs about 20 ms
        con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns "
            "WHERE table_schema = 'raw' GROUP BY table_name"
        ).fetchall()
    )
    for e in contract.extracts.values():
        existing = columns.get(e.name, [])
        expected = e.column_names + ["_extracted_at", "_source_file", "_source_line", "_landed_at"]
        if existing != expected:
            raise RuntimeError(
                f"raw.{e.name} in the warehouse has columns {existing}, but the contract now defines {expected}. "
                "Migrate the table (or land into a new warehouse file) before landing."
            )


# ----------------------------------------------------------------------------------- discovery


@dataclass
class _Candidate:
    path: Path
    rel: str
    extracted_at: dt.datetime  # naive UTC
    manifest_entry: dict | None
    date_only: bool = False  # extracted_at came from a folder named by date: some time that day
    signature: str | None = None  # file_signature() when it was read

    def plausible_until(self, rules: RowRules) -> dt.datetime:
        """The latest timestamp a row of this file may carry (the city's plausible window)."""
        end_of_extract = self.extracted_at + dt.timedelta(days=1 if self.date_only else 0)
        return end_of_extract + dt.timedelta(hours=rules.latest_after_extract_hours)


def _check_manifest_shape(manifest) -> None:
    """A manifest is a JSON object: extracted_at (ISO 8601 text with offset) and files {name: {rows, sha256}}."""
    if manifest is None:
        return
    if not isinstance(manifest, dict):
        raise ValueError(f"a manifest must be a JSON object, not a {type(manifest).__name__}")
    if "extracted_at" in manifest and not isinstance(manifest["extracted_at"], str):
        raise ValueError(f"extracted_at must be ISO 8601 text with a UTC offset, not {manifest['extracted_at']!r}")
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise ValueError('files must map each file name to {"rows": ..., "sha256": ...}')
    for name, entry in files.items():
        if not isinstance(entry.get("rows", 0), int) or not isinstance(entry.get("sha256", ""), str):
            raise ValueError(f"files.{name}: rows must be a whole number and sha256 a text")


def _drop_extracted_at(folder: Path, manifest: dict | None) -> dt.datetime | None:
    if manifest and manifest.get("extracted_at"):
        ts = dt.datetime.fromisoformat(manifest["extracted_at"])
        if ts.tzinfo is None:
            raise ValueError("manifest extracted_at needs a UTC offset")
        if ts > dt.datetime.now(dt.UTC) + dt.timedelta(hours=1):  # a typo would win every later version
            raise ValueError(
                f"manifest extracted_at {manifest['extracted_at']} is in the future; "
                "the drop's files wait until the manifest is corrected"
            )
        return ts.astimezone(dt.UTC).replace(tzinfo=None)
    try:  # a drop folder named by its extract date
        return dt.datetime.strptime(folder.name, "%Y-%m-%d")
    except ValueError:
        return None


def _walk(landing_dir: Path, rejected: list[FileRejected]) -> list[tuple[Path, str, Path]]:
    """(path, path relative to the landing folder, its folder) of every visible file. Symlinks are followed
    only to a place inside the landing folder (a file reached twice counts once, by its real path); a
    symlink out of it, or a broken one, is rejected and named, never silently skipped or read. Relative
    paths are built as text and a folder's Path is shared by its files: pathlib's per-file parsing was
    most of a run with nothing new (36,000 files at ten years)."""
    root = landing_dir.resolve()
    found: dict[str, tuple[Path, Path]] = {}
    seen_dirs: set[Path] = set()

    def visit(folder: Path, real: Path, rel: str) -> None:
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:  # scandir: the entry's kind comes with the listing, no system call per file (36,000 at ten years)
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            rejected.append(FileRejected(folder, f"unreadable folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue  # manifests, hidden files and partial uploads ("_tmp...") are not extracts
            if not entry.is_symlink():
                if entry.is_dir():
                    visit(folder / entry.name, real / entry.name, f"{rel}{entry.name}/")
                elif entry.is_file():
                    found.setdefault(rel + entry.name, (real / entry.name, real))
                continue
            # only a symlink needs resolving (each resolve is a system call per path part)
            link = folder / entry.name
            target = link.resolve()
            kind = "folder" if target.is_dir() else "file"
            if not target.exists():
                rejected.append(FileRejected(link, "broken symlink: it points to nothing"))
                continue
            if target != root and root not in target.parents:
                rejected.append(
                    FileRejected(
                        link,
                        f"symlinked {kind} points outside the landing folder ({root}); "
                        "not followed. Copy the files in instead",
                    )
                )
                continue
            if target.is_dir():
                visit(link, target, "" if target == root else f"{target.relative_to(root)}/")
            elif target.is_file():
                found.setdefault(str(target.relative_to(root)), (target, target.parent))

    visit(landing_dir, root, "")
    return [(path, rel, folder) for rel, (path, folder) in sorted(found.items())]


def discover(landing_dir: Path, settle_seconds: float = 0.0) -> tuple[list[_Candidate], list[FileRejected], list[str]]:
    """Every data file under the landing folder, oldest drop first; rejected files and folders; files left
    for the next run because they changed within `settle_seconds` (a writer may not have finished)."""
    candidates, rejected, waiting = [], [], []
    manifests: dict[Path, dict | None] = {}
    folder_times: dict[Path, dt.datetime | None | ValueError] = {}  # each drop folder's extract time, once
    settled_before = time.time() - settle_seconds
    for path, rel, folder in _walk(landing_dir, rejected):
        if settle_seconds and path.stat().st_mtime > settled_before:
            waiting.append(rel)
            continue
        if folder not in manifests:
            mpath = folder / MANIFEST_NAME
            try:
                manifests[folder] = json.loads(mpath.read_text(encoding="utf-8")) if mpath.exists() else None
                _check_manifest_shape(manifests[folder])
            except (ValueError, UnicodeDecodeError, OSError) as exc:
                manifests[folder] = None
                rejected.append(FileRejected(mpath, f"unreadable drop manifest: {exc}"))
        manifest = manifests[folder]
        if folder not in folder_times:
            try:
                folder_times[folder] = _drop_extracted_at(folder, manifest)
            except ValueError as exc:
                folder_times[folder] = exc
                rejected.append(FileRejected(folder / MANIFEST_NAME, str(exc)))
        extracted_at = folder_times[folder]
        if isinstance(extracted_at, ValueError):
            continue
        date_only = extracted_at is not None and not (manifest and manifest.get("extracted_at"))
        if extracted_at is None:
            extracted_at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
        entry = (manifest or {}).get("files", {}).get(path.name)
        candidates.append(_Candidate(path, rel, extracted_at, entry, date_only))
    candidates.sort(key=lambda c: (c.extracted_at, c.rel))
    return candidates, rejected, waiting


# ------------------------------------------------------------------------------------- landing


def next_landing_time(con) -> dt.datetime:
    """This landing's stamp (`_landed_at` of every row it adds or replaces): now, to the second, and always
    later than every earlier landing's, even if the clock went back, because incremental staging models
    read only the rows stamped after the latest one they hold (dbt_project/macros/latest_version.sql)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    (latest,) = con.execute("SELECT max(landed_at) FROM land.file_ledger").fetchone()
    return now if latest is None or now > latest else latest + dt.timedelta(seconds=1)


def land(
    landing_dir: Path,
    warehouse_path: Path,
    city_tz: str,
    contract: Contract | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str], None] = print,
    rules: RowRules | None = None,
    settle_seconds: float = 0.0,
    memory_limit: str = "1GB",
) -> LandingReport:
    """Land every new file under `landing_dir` into `warehouse_path`. Returns what happened; raises only
    for faults of the warehouse itself (a rejected file is reported, not raised). Files changed within
    `settle_seconds` are left for the next run (the delivery rules are in docs/extract-contract.md).
    DuckDB's memory is held to `memory_limit` (setting landing_memory_limit): beyond it, its temporary
    tables, joins and sorts spill to disk, so a large file's validation does not hold the file in memory
    (DuckDB's default is 80% of the machine)."""
    started = time.monotonic()
    contract = contract or load_contract()
    rules = rules or RowRules()
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist")
    warehouse_path = Path(warehouse_path)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    report = LandingReport()

    con = duckdb.connect(str(warehouse_path))
    try:
        con.execute("SET preserve_insertion_order = false")
        try:
            con.execute(f"SET memory_limit = {lit(memory_limit)}")
        except duckdb.Error:
            raise ValueError(
                f"landing memory limit {memory_limit!r} (ALT911_LANDING_MEMORY_LIMIT) is not a size DuckDB "
                "reads; write it like 1GB or 512MB"
            ) from None
        # DuckDB writes its log into the file at a commit once the log passes 16 MB: at ten city-years,
        # every batch's commit, 19 of landing's 100 s. A checkpoint every 256 MB of log costs 7 s in all
        # (and up to that much more memory, inside memory_limit); each batch still commits whole.
        con.execute("SET checkpoint_threshold = '256MB'")
        ensure_tables(con, contract)
        landed_at = next_landing_time(con)
        ledger = con.execute("SELECT path, checksum, file_signature FROM land.file_ledger").fetchall()
        known = {(path, checksum) for path, checksum, _ in ledger}
        unchanged = {(path, signature) for path, _, signature in ledger if signature is not None}
        candidates, report.rejected, report.waiting = discover(landing_dir, settle_seconds)
        progress(
            f"landing: {len(candidates)} file(s) under {landing_dir}"
            + (
                f"; {len(report.waiting)} changed within the last {settle_seconds:.0f} s, left for the next run"
                if report.waiting
                else ""
            )
        )

        stages: dict[str, _Stage] = {}
        pending: list[_PendingFile] = []
        pending_rows = 0
        for cand in candidates:
            try:
                signature = file_signature(cand.path)  # taken before reading: a later write changes it
                if signature is not None and (cand.rel, signature) in unchanged:
                    report.skipped.append(cand.rel)
                    continue
                scan = scan_file(cand.path)
            except OSError as exc:  # one unreadable file is rejected; the others land
                rej = FileRejected(cand.path, f"unreadable file: {exc.strerror or exc}")
                report.rejected.append(rej)
                con.execute(
                    "INSERT OR REPLACE INTO land.rejected_files VALUES (?, '', ?, ?)",
                    [cand.rel, rej.problem, landed_at],
                )
                continue
            if (cand.rel, scan.checksum) in known:
                report.skipped.append(cand.rel)
                continue
            try:
                extract = contract.extract_for_filename(cand.path.name)
                if extract is None:
                    raise FileRejected(
                        cand.path,
                        "unknown extract name: expected <extract>_<YYYYMMDD>[_<part>] with an extract from the "
                        f"contract ({', '.join(contract.extracts)})",
                    )
                if cand.path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    raise FileRejected(cand.path, f"unsupported file type {cand.path.suffix!r}: use .csv or .parquet")
                expected_rows = None
                if cand.manifest_entry:
                    if cand.manifest_entry.get("sha256") not in (None, scan.checksum):
                        raise FileRejected(
                            cand.path, "checksum does not match the drop's manifest (changed or damaged in transfer)"
                        )
                    expected_rows = cand.manifest_entry.get("rows")
                if extract.name not in stages:
                    stages[extract.name] = _Stage(
                        con,
                        extract,
                        len(stages),
                        lambda rows, e=extract: validation_sql(e, contract, city_tz, rows, rules),
                    )
                idx = len(pending)
                rows = stages[extract.name].add_file(idx, cand, scan, rules)
                if signature is not None and _signature_now(cand.path) != signature:
                    # written to while it was read (the scan and the read are two passes): next run
                    stages[extract.name].discard(idx)
                    report.waiting.append(cand.rel)
                    continue
                if expected_rows is not None and rows != expected_rows:
                    stages[extract.name].discard(idx)
                    raise FileRejected(
                        cand.path,
                        f"truncated or incomplete: the drop's manifest says it has {expected_rows:,} row(s), "
                        f"the file has {rows:,}",
                    )
            except FileRejected as rej:
                report.rejected.append(rej)
                con.execute(
                    "INSERT OR REPLACE INTO land.rejected_files VALUES (?, ?, ?, ?)",
                    [cand.rel, scan.checksum, rej.problem, landed_at],
                )
                continue
            known.add((cand.rel, scan.checksum))
            cand.signature = signature
            pending.append(_PendingFile(idx, cand, extract, scan.checksum, rows))
            pending_rows += rows
            if pending_rows >= batch_rows:
                _write_batch(con, contract, pending, stages, landed_at, report)
                progress(f"landing: {len(report.landed)} file(s) written, up to {cand.rel}")
                stages, pending, pending_rows = {}, [], 0
        if pending:
            _write_batch(con, contract, pending, stages, landed_at, report)
        for name in contract.extracts:
            report.table_rows[name] = con.execute(f"SELECT count(*) FROM raw.{q(name)}").fetchone()[0]
    finally:
        con.close()
    report.seconds = time.monotonic() - started
    return report


@dataclass
class _PendingFile:
    idx: int  # its number in the batch (_file_idx in the staged rows)
    cand: _Candidate
    extract: Extract
    checksum: str
    rows_read: int


class _Stage:
    """The rows of one extract's pending files, as strings. Small files are held in Python and handed to
    DuckDB together when the batch is written (the plain ones parsed together first, _parse_plain). A large
    file (STAGE_ROWS rows or more) goes to a DuckDB temporary table, STAGE_ROWS rows at a time with what
    the stage holds, validated block by block as it goes.

    Why validated on the way: DuckDB 1.5.5 can crash typing text stored in its own tables (a segfault in
    strptime, StrpTimeFormat::Parse; it seems to read past the end of a text that ends where a block of
    DuckDB's memory does). Staged this way, a year of the demo's roster files crashed about one landing
    in ten; read from Arrow, never. So the rows are typed while still in Arrow, held file by file: typed
    from one table of many files in full vectors, the crash came back (_parse_plain)."""

    def __init__(self, con, extract: Extract, number: int, validation: Callable[[str], str]):
        self.con, self.extract, self.validation = con, extract, validation
        self.table = f"staged_rows_{number}"
        self.validated = f"validated_{self.table}"  # the rows staged in DuckDB, validated (validation_sql)
        self.held: list[pa.Table] = []
        self.held_rows = 0
        self.plain: list[tuple[int, dt.datetime, _Candidate, FileScan]] = []  # parsed together, later (_parse_plain)
        self.in_duckdb = self.registered = False

    def add_file(self, idx: int, cand: _Candidate, scan: FileScan, rules: RowRules) -> int:
        """Stage one file; returns its rows. Raises FileRejected after taking back what it staged."""
        until = cand.plausible_until(rules)
        rows = plain_rows(cand.path, self.extract, scan)
        if rows is not None and rows < STAGE_ROWS:  # its rows are its lines: parsed with the other plain files
            self.plain.append((idx, until, cand, scan))
            return rows
        return self._read(idx, until, cand, scan)

    def _read(self, idx: int, until: dt.datetime, cand: _Candidate, scan: FileScan) -> int:
        rows = 0
        try:
            for block in read_fast(cand.path, self.extract, scan):
                self._hold(idx, until, block)
                rows += block.num_rows
                if rows >= STAGE_ROWS and self.held_rows >= STAGE_ROWS:  # a large file
                    self._to_duckdb()
        except NotExact:
            self.discard(idx)
            table = read_carefully(cand.path, self.extract, scan.head if len(scan.head) == scan.size else None)
            self._hold(idx, until, table)
            rows = table.num_rows
            if rows >= STAGE_ROWS:
                self._to_duckdb()
        except FileRejected:
            self.discard(idx)
            raise
        except OSError as exc:  # gone or unreadable since it was scanned: rejected alone, the others land
            self.discard(idx)
            raise FileRejected(cand.path, f"unreadable file: {exc.strerror or exc}") from None
        return rows

    def _hold(self, idx: int, until: dt.datetime, block: pa.Table) -> None:
        n = block.num_rows
        block = block.append_column("_file_idx", pa.repeat(pa.scalar(idx, pa.int64()), n))
        self.held.append(block.append_column("_plausible_until", pa.repeat(pa.scalar(until, pa.timestamp("us")), n)))
        self.held_rows += n

    def _parse_plain(self) -> None:
        """Parse the plain files held back by add_file, all in one call; if Arrow cannot (a ragged row in one
        of them), each alone, as add_file reads any file. Their bytes are the ones the scan checksummed."""
        if not self.plain:
            return
        groups = defaultdict(list)  # by header: with a trailing delimiter or without
        for entry in self.plain:
            groups[plain_header(entry[3])].append(entry)
        self.plain = []
        for plain in groups.values():
            table = read_together([scan for _, _, _, scan in plain], self.extract)
            if table is None:
                for idx, until, cand, scan in plain:
                    try:
                        self._read(idx, until, cand, scan)
                    except FileRejected as exc:  # plain_rows admits no file the careful reader rejects
                        raise RuntimeError(f"landing: a file read as plain was then rejected: {exc}") from exc
                continue
            rows = [scan.newlines - 1 for _, _, _, scan in plain]
            which = pa.array(np.repeat(np.arange(len(plain)), rows))  # each row's file, by position in `plain`
            idxs = pa.array([idx for idx, _, _, _ in plain], pa.int64()).take(which)
            untils = pa.array([until for _, until, _, _ in plain], pa.timestamp("us")).take(which)
            table = table.append_column("_file_idx", idxs).append_column("_plausible_until", untils)
            # Held file by file (slices: no copy), as files read alone are. DuckDB then types each file's rows
            # in vectors of at most that many rows; in full 2048-row vectors over one table, its strptime
            # crash (see the class's docstring) came back: 3 landings in 32 at one city-year, against none in
            # 60 held file by file.
            starts = np.cumsum(rows) - rows
            self.held.extend(table.slice(start, n) for start, n in zip(starts.tolist(), rows, strict=True))
            self.held_rows += table.num_rows

    def _to_duckdb(self) -> None:
        self._parse_plain()
        if not self.in_duckdb:
            cols = ", ".join(f"{q(c)} VARCHAR" for c in self.extract.column_names)
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self.table} ({cols}, _line BIGINT, _shape_error VARCHAR, "
                "_file_idx BIGINT, _plausible_until TIMESTAMP)"
            )
            # empty, from the empty table: only its columns are wanted
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.validated} AS {self.validation(self.table)}")
            self.in_duckdb = True
        if self.held:
            self.con.register("held_rows", pa.concat_tables(self.held))
            self.con.execute(f"INSERT INTO {self.table} BY NAME SELECT * FROM held_rows")
            self.con.execute(f"INSERT INTO {self.validated} {self.validation('held_rows')}")
            self.con.unregister("held_rows")
        self.held, self.held_rows = [], 0

    def ready(self) -> str:
        """The staged rows, as a table name DuckDB can read."""
        self._parse_plain()
        if self.in_duckdb:
            self._to_duckdb()
        else:  # no copy
            self.con.register(self.table, pa.concat_tables(self.held) if self.held else self._empty())
            self.registered = True
        return self.table

    def _empty(self) -> pa.Table:
        """No rows (every pending file of the extract is a header alone)."""
        columns = [pa.field(c, pa.string()) for c in self.extract.column_names]
        columns += [
            pa.field("_line", pa.int64()),
            pa.field("_shape_error", pa.string()),
            pa.field("_file_idx", pa.int64()),
            pa.field("_plausible_until", pa.timestamp("us")),
        ]
        return pa.schema(columns).empty_table()

    def discard(self, idx: int) -> None:
        """Take back a file's rows (it is read again carefully, or rejected)."""
        self.plain = [entry for entry in self.plain if entry[0] != idx]
        kept = [t for t in self.held if t.num_rows == 0 or t.column("_file_idx")[0].as_py() != idx]
        self.held, self.held_rows = kept, sum(t.num_rows for t in kept)  # each held table is one file's
        if self.in_duckdb:
            self.con.execute(f"DELETE FROM {self.table} WHERE _file_idx = ?", [idx])
            self.con.execute(f"DELETE FROM {self.validated} WHERE _file_idx = ?", [idx])

    def drop(self) -> None:
        if self.in_duckdb:
            self.con.execute(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.validated}")
        elif self.registered:
            self.con.unregister(self.table)
        self.held, self.held_rows, self.in_duckdb, self.registered = [], 0, False, False
        self.plain = []


def _write_batch(con, contract, pending, stages, landed_at, report) -> None:
    """One transaction: rows, quarantine and ledger entries of every pending file."""
    by_extract: dict[str, list[_PendingFile]] = defaultdict(list)
    for f in pending:
        by_extract[f.extract.name].append(f)
    for name in by_extract:
        stages[name].ready()

    results: list[tuple[FileResult, str, dt.datetime, str | None]] = []
    validated: list[_Validated] = []
    try:
        # Validation writes only temporary tables, so it runs before the transaction: DuckDB can spill
        # committed temporary tables to disk, so a large file is validated in bounded memory.
        for name, files in by_extract.items():
            validated.append(_validate_extract(con, contract.extracts[name], files, stages[name]))
            results += validated[-1].results
    except BaseException:
        for v in validated:
            v.drop(con)
        for stage in stages.values():
            stage.drop()
        raise
    con.execute("BEGIN TRANSACTION")
    try:
        for v in validated:
            _write_extract(con, v, landed_at, report)
        ledger = pa.table(  # one insert: executemany costs about half a millisecond a row
            {
                "path": pa.array([r.path for r, _, _, _ in results], type=pa.string()),
                "extract": pa.array([r.extract for r, _, _, _ in results], type=pa.string()),
                "checksum": pa.array([checksum for _, checksum, _, _ in results], type=pa.string()),
                "extracted_at": pa.array([at for _, _, at, _ in results], type=pa.timestamp("us")),
                "rows_read": pa.array([r.rows_read for r, _, _, _ in results], type=pa.int64()),
                "rows_loaded": pa.array([r.rows_loaded for r, _, _, _ in results], type=pa.int64()),
                "rows_quarantined": pa.array([r.rows_quarantined for r, _, _, _ in results], type=pa.int64()),
                "landed_at": pa.array([landed_at] * len(results), type=pa.timestamp("us")),
                "file_signature": pa.array([signature for _, _, _, signature in results], type=pa.string()),
            }
        )
        con.register("ledger_rows", ledger)
        con.execute("INSERT INTO land.file_ledger BY NAME SELECT * FROM ledger_rows")
        con.unregister("ledger_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for v in validated:
            v.drop(con)
        for stage in stages.values():
            stage.drop()
    report.landed += [r for r, _, _, _ in results]


@dataclass
class _Validated:
    """One extract's validated rows (a temporary table) and each file's counts."""

    extract: Extract
    files: list[_PendingFile]
    table: str  # every row read: typed columns, problems, record
    batch_files: str  # the files: _file_idx, path, checksum, extracted_at
    results: list[tuple[FileResult, str, dt.datetime, str | None]]

    def drop(self, con) -> None:
        con.execute(f"DROP TABLE IF EXISTS {self.table}")
        con.unregister(self.batch_files)


def _validate_extract(con, extract: Extract, files: list[_PendingFile], stage: _Stage) -> _Validated:
    """Validate the staged files of one extract into a temporary table; returns it with (result, checksum,
    extracted_at, signature) per file. Raises ReconciliationError if a file's rows do not add up."""
    meta = pa.table(
        {
            "_file_idx": pa.array([f.idx for f in files], type=pa.int64()),
            "path": pa.array([f.cand.rel for f in files], type=pa.string()),
            "checksum": pa.array([f.checksum for f in files], type=pa.string()),
            "extracted_at": pa.array([f.cand.extracted_at for f in files], type=pa.timestamp("us")),
        }
    )
    table, batch_files = stage.validated, f"batch_files_{stage.table}"
    con.register(batch_files, meta)
    done = _Validated(extract, files, table, batch_files, [])
    try:
        if not stage.in_duckdb:  # else validated block by block as it was staged
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {stage.validation(stage.table)}")
        # A key sent twice in one file: the last valid line is the version; earlier ones are quarantined.
        keys = ", ".join(q(k) for k in extract.key)
        key_eq = " AND ".join(f"v.{q(k)} = d.{q(k)}" for k in extract.key)
        (duplicates,) = con.execute(f"""
            UPDATE {table} v SET problems = list_append(v.problems, {{'column': {lit(extract.key[0])},
                'reason': 'duplicate key in this file: line ' || d.last_line || ' supersedes it'}})
            FROM (SELECT _file_idx, {keys}, max(_line) AS last_line FROM {table} WHERE len(problems) = 0
                  GROUP BY ALL HAVING count(*) > 1) d
            WHERE v._file_idx = d._file_idx AND {key_eq} AND len(v.problems) = 0
              AND v._line < d.last_line""").fetchone()
        if duplicates:  # they need the row as sent (a join with every staged row: only when there are any)
            con.execute(f"""
                UPDATE {table} v SET record = {record_sql(extract, "b")} FROM {stage.table} b
                WHERE v.record IS NULL AND len(v.problems) > 0 AND b._file_idx = v._file_idx AND b._line = v._line""")
        counts = dict(
            (idx, (loaded, quarantined))
            for idx, loaded, quarantined in con.execute(
                "SELECT _file_idx, count(*) FILTER (WHERE len(problems) = 0), "
                f"count(*) FILTER (WHERE len(problems) > 0) FROM {table} GROUP BY _file_idx"
            ).fetchall()
        )
        for f in files:
            loaded, quarantined = counts.get(f.idx, (0, 0))
            if loaded + quarantined != f.rows_read:
                raise ReconciliationError(
                    f"{f.cand.rel}: read {f.rows_read} rows but loaded {loaded} and quarantined {quarantined}; "
                    "nothing from this batch was kept"
                )
            done.results.append(
                (
                    FileResult(f.cand.rel, extract.name, f.rows_read, loaded, quarantined),
                    f.checksum,
                    f.cand.extracted_at,
                    f.cand.signature,
                )
            )
    except BaseException:
        done.drop(con)
        raise
    return done


def _write_extract(con, validated: _Validated, landed_at, report: LandingReport) -> None:
    """Quarantine and upsert one extract's validated rows (inside the batch's transaction)."""
    extract, files, table, batch_files = validated.extract, validated.files, validated.table, validated.batch_files
    con.execute(
        f"""
        INSERT INTO land.quarantine
        SELECT f.path, ?, f.checksum, v._line, v.problems[1].column, list_aggregate(
                   list_transform(v.problems, p -> coalesce(p.column || ': ', '') || p.reason), 'string_agg', '; '),
               v.record, ?
        FROM {table} v JOIN {batch_files} f USING (_file_idx)
        WHERE len(v.problems) > 0
        """,
        [extract.name, landed_at],
    )

    key_match = " AND ".join(f"t.{q(k)} = i.{q(k)}" for k in extract.key)
    key_cols = ", ".join(f"v.{q(k)}" for k in extract.key)
    # Within one file the duplicate step left one valid row per key; across files the latest wins. (A
    # large file comes alone, and sorting its millions of rows would cost memory for nothing.)
    latest = (
        f"QUALIFY row_number() OVER (PARTITION BY {key_cols} "
        "ORDER BY f.extracted_at DESC, f.path DESC, v._line DESC) = 1"
        if len(files) > 1
        else ""
    )
    # A file alone needs no ranking: its rows are read where they lie (a view) rather than copied
    kind = "TABLE" if latest else "VIEW"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP {kind} incoming AS
        SELECT {", ".join(f"v.{q(c)}" for c in extract.column_names)},
               f.extracted_at AS _extracted_at, f.path AS _source_file, v._line AS _source_line,
               TIMESTAMP '{landed_at.isoformat(sep=" ")}' AS _landed_at
        FROM {table} v JOIN {batch_files} f USING (_file_idx)
        WHERE len(v.problems) = 0
        {latest}
        """
    )
    column = time_column(extract)
    if column:
        report.add_range(
            extract.name, *con.execute(f"SELECT min({q(column)}), max({q(column)}) FROM incoming").fetchone()
        )
    # Latest extract wins, whatever the landing order: replace stored rows that are older than the incoming
    # version, or as old and from a file whose path sorts first; then add incoming rows whose key is no
    # longer (or was never) stored.
    con.execute(
        f"DELETE FROM raw.{q(extract.name)} t USING incoming i WHERE {key_match} AND "
        "(t._extracted_at < i._extracted_at OR (t._extracted_at = i._extracted_at "
        "AND t._source_file <= i._source_file))"
    )
    con.execute(
        f"INSERT INTO raw.{q(extract.name)} SELECT i.* FROM incoming i "
        f"WHERE NOT EXISTS (SELECT 1 FROM raw.{q(extract.name)} t WHERE {key_match})"
    )
    con.execute(f"DROP {kind} incoming")
