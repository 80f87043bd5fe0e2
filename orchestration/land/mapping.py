"""Map a city's own export into contract extract files, by configuration only.

A mapping (`<city folder>/mappings/<name>.yml`, or one of the examples shipped in
orchestration/land/mappings/) says how to read the export and, for each contract extract it feeds, one
DuckDB SQL expression per contract column over the export's columns. The mapped files are written into
a drop folder and then landed like any other extract, so every row still ends loaded or quarantined.

Every row the mapping itself leaves out (a filter, an empty list to explode, a duplicate folded by
`one_row_per`) is counted with its reason in the mapping's report (`_mapping_<name>.json` in the drop
folder, which landing ignores). The same export always gives byte-identical files. The full reference
is docs/mapping-real-exports.md.

    python -m orchestration.land.mapping eugene_cad export.csv --out data/landing/2025-04-21
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from orchestration.contract import load_contract
from orchestration.land.validate import lit, q, typed

MAPPINGS_DIR = Path(__file__).with_name("mappings")  # examples shipped with the product
SOURCE_KEYS = {"header", "columns", "delimiter", "encoding", "null_tokens", "null_tokens_by_column", "filter"}
OUTPUT_KEYS = {"extract", "columns", "filter", "explode", "one_row_per", "first_by"}
ENCODINGS = ("utf-8", "utf-16", "latin-1")  # what DuckDB reads without an extension


class MappingError(ValueError):
    pass


@dataclass
class Mapping:
    name: str
    description: str
    city_tz: str
    source: dict
    outputs: list[dict]

    @classmethod
    def load(cls, name_or_path: str | Path, search: list[Path] | None = None) -> Mapping:
        """A mapping by path, or by name from the city folder's mappings/ and then the shipped examples."""
        path = Path(name_or_path)
        folders = [*(search or []), MAPPINGS_DIR]
        if not path.suffix:
            path = next(
                (d / f"{name_or_path}.yml" for d in folders if (d / f"{name_or_path}.yml").exists()),
                folders[0] / f"{name_or_path}.yml",
            )
        if not path.exists():
            known = ", ".join(sorted({p.stem for d in folders if d.is_dir() for p in d.glob("*.yml")}))
            raise MappingError(f"no mapping {name_or_path!r} (known: {known})")
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        contract = load_contract()
        source = spec.get("source", {})
        unknown = set(source) - SOURCE_KEYS
        if unknown:
            raise MappingError(f"{path.name}: unknown source option(s) {sorted(unknown)}; known: {sorted(SOURCE_KEYS)}")
        if source.get("encoding", "utf-8").lower() not in ENCODINGS:
            raise MappingError(
                f"{path.name}: encoding {source['encoding']!r} is not one of {ENCODINGS}; "
                "convert the export to UTF-8 first (e.g. iconv)"
            )
        for out in spec["outputs"]:
            extract = contract.extracts.get(out["extract"])
            if extract is None:
                raise MappingError(f"{path.name}: unknown extract {out['extract']!r}")
            unknown = set(out) - OUTPUT_KEYS
            if unknown:
                raise MappingError(f"{path.name} -> {extract.name}: unknown option(s) {sorted(unknown)}")
            missing = [c for c in extract.column_names if c not in out["columns"]]
            extra = [c for c in out["columns"] if c not in extract.column_names]
            if missing or extra:
                raise MappingError(
                    f"{path.name} -> {extract.name}: columns missing {missing}, not in the contract {extra} "
                    "(map every contract column; leave it empty for NULL where the export lacks it)"
                )
        return cls(path.stem, spec["description"], spec.get("city_tz", ""), source, spec["outputs"])


@dataclass
class OutputReport:
    extract: str
    path: str
    rows_written: int
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows left out
    added_by_explode: int = 0


@dataclass
class MappingReport:
    mapping: str
    export: str
    rows_read: int
    dropped_by_source_filter: int
    outputs: list[OutputReport] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [Path(o.path) for o in self.outputs]

    def summary(self) -> str:
        lines = [f"mapping {self.mapping}: {self.rows_read:,} rows read from {self.export}"]
        if self.dropped_by_source_filter:
            lines.append(f"  {self.dropped_by_source_filter:,} rows left out by the source filter")
        for o in self.outputs:
            lines.append(f"  {o.extract}: {o.rows_written:,} rows written to {o.path}")
            if o.added_by_explode:
                lines.append(f"    +{o.added_by_explode:,} rows from exploding a list column")
            lines += [f"    {n:,} rows left out: {reason}" for reason, n in o.dropped.items() if n]
        return "\n".join(lines)


def _helper_macros(city_tz: str) -> list[str]:
    """DuckDB macros a mapping's expressions may call (docs/mapping-real-exports.md, "Helpers").
    Each returns the raw text when it cannot parse it, so landing quarantines it visibly."""
    return [
        # 'MM/DD/YY' or 'MM/DD/YYYY' -> 'YYYY-MM-DD'. Two-digit years: below `pivot_year` -> 20YY, else 19YY.
        """CREATE MACRO us_date(d, pivot_year) AS CASE
             WHEN regexp_full_match(trim(d), '\\d{1,2}/\\d{1,2}/\\d{4}')
               THEN strftime(strptime(trim(d), '%m/%d/%Y'), '%Y-%m-%d')
             WHEN regexp_full_match(trim(d), '\\d{1,2}/\\d{1,2}/\\d{2}')
               THEN printf('%04d-%02d-%02d',
                    CAST(split_part(trim(d), '/', 3) AS INTEGER)
                      + CASE WHEN CAST(split_part(trim(d), '/', 3) AS INTEGER) < pivot_year THEN 2000 ELSE 1900 END,
                    CAST(split_part(trim(d), '/', 1) AS INTEGER), CAST(split_part(trim(d), '/', 2) AS INTEGER))
             ELSE d END""",
        # a clock-only time ('H:MM', 'HH:MM[:SS]') on an ISO date -> local 'YYYY-MM-DD HH:MM:SS'. When the
        # clock is earlier than `ref_clock` (the received clock), it is on the next day (past midnight).
        """CREATE MACRO clock_on(iso_date, clock, ref_clock) AS CASE
             WHEN clock IS NULL THEN NULL
             WHEN TRY_CAST(iso_date AS DATE) IS NULL OR TRY_CAST(clock AS TIME) IS NULL
               THEN concat_ws(' ', iso_date, clock)
             ELSE strftime((CAST(iso_date AS DATE) + CAST(clock AS TIME))
                    + CASE WHEN TRY_CAST(ref_clock AS TIME) IS NOT NULL
                                AND CAST(clock AS TIME) < CAST(ref_clock AS TIME)
                           THEN INTERVAL 1 DAY ELSE INTERVAL 0 DAY END, '%Y-%m-%d %H:%M:%S') END""",
        # local wall time + elapsed seconds -> the exact instant, ISO with a UTC offset (exact across DST)
        f"""CREATE MACRO seconds_after(local_ts, secs) AS CASE
             WHEN secs IS NULL OR local_ts IS NULL THEN NULL
             WHEN TRY_CAST(local_ts AS TIMESTAMP) IS NULL OR TRY_CAST(secs AS DOUBLE) IS NULL
               THEN concat_ws(' + ', local_ts, secs)
             ELSE strftime(timezone('UTC', timezone({lit(city_tz)}, CAST(local_ts AS TIMESTAMP))
                                           + to_seconds(CAST(secs AS DOUBLE))), '%Y-%m-%dT%H:%M:%S') || '+00:00' END""",
    ]


def _open_export(mapping: Mapping, source: Path, city_tz: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the export (view `src`, after the source filter; table `src_all`) and
    the helper macros, in the export's time zone."""
    source = Path(source)
    if not source.exists():
        raise MappingError(f"export {source} does not exist")
    con = duckdb.connect()
    try:
        for macro in _helper_macros(city_tz):
            con.execute(macro)
        _read_export(con, mapping, source)
    except duckdb.Error as exc:
        con.close()
        raise MappingError(f"mapping {mapping.name} cannot read {source}: {exc}") from None
    return con


def _read_export(con, mapping: Mapping, source: Path) -> None:
    """The export as all-text columns, with null tokens applied, in view `src` (plus `_row`, its line order)."""
    src = mapping.source
    options = [
        "all_varchar = true",
        "quote = '\"'",
        "escape = '\"'",
        "strict_mode = false",
        f"delim = {lit(src.get('delimiter', ','))}",
        f"encoding = {lit(src.get('encoding', 'utf-8'))}",
    ]
    if src.get("header", True):
        options.append("header = true")
    else:
        options += ["header = false", f"names = [{', '.join(lit(n) for n in src['columns'])}]"]
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"CREATE TABLE export AS SELECT row_number() OVER () AS _row, * "
        f"FROM read_csv({lit(str(source))}, {', '.join(options)})"
    )
    tokens = src.get("null_tokens", [""])
    by_column = src.get("null_tokens_by_column", {})
    cols = [r[0] for r in con.execute("DESCRIBE export").fetchall() if r[0] != "_row"]
    unknown = sorted(set(by_column) - set(cols))
    if unknown:
        raise MappingError(f"null_tokens_by_column names column(s) {unknown} the export does not have ({cols})")
    nulls = ", ".join(
        f"CASE WHEN trim({q(c)}) IN ({', '.join(lit(t) for t in [*tokens, *by_column.get(c, [])])}) THEN NULL "
        f"ELSE trim({q(c)}) END AS {q(c)}"
        for c in cols
    )
    con.execute(f"CREATE TABLE src_all AS SELECT _row, {nulls} FROM export")
    con.execute(f"CREATE VIEW src AS SELECT * FROM src_all WHERE {src.get('filter') or 'true'}")


def _output_stages(out: dict, extract) -> tuple[str, str, str]:
    """SQL of one output's stages: the export rows it reads (after exploding a list column), the mapped
    rows its filter keeps, and the rows written (after folding to one row per key)."""
    base = "SELECT * FROM src"
    explode = out.get("explode")
    if explode:  # one row per element of a list column, which keeps the column's name
        col, sep = q(explode["column"]), lit(explode.get("separator", ","))
        base = (
            f"SELECT * FROM (SELECT * REPLACE (nullif(trim(unnest(string_split({col}, {sep}))), '') AS {col}) "
            f"FROM src) WHERE {col} IS NOT NULL"
        )
    select = ", ".join(f"CAST({out['columns'][c] or 'NULL'} AS VARCHAR) AS {q(c)}" for c in extract.column_names)
    kept = f"SELECT _row, {select} FROM ({base}) AS s"
    if out.get("filter"):
        kept = f"SELECT * FROM ({kept}) WHERE {out['filter']}"
    final = f"SELECT * FROM ({kept})"
    if out.get("one_row_per"):  # exports with one row per unit feed incidents once per incident
        order = ", ".join([q(out.get("first_by", out["one_row_per"]))] + [q(c) for c in extract.column_names])
        final += f" QUALIFY row_number() OVER (PARTITION BY {q(out['one_row_per'])} ORDER BY {order}) = 1"
    return base, kept, final


def map_export(
    mapping: Mapping, source: Path, drop_dir: Path, drop_date: dt.date, city_tz: str | None = None, write: bool = True
) -> MappingReport:
    """Write one contract file per output of `mapping` into drop_dir, and the mapping's report."""
    drop_dir = Path(drop_dir)
    contract = load_contract()
    con = _open_export(mapping, source, city_tz or mapping.city_tz or "UTC")
    try:
        count = lambda sql: con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]  # noqa: E731
        rows_read, rows_in = count("SELECT * FROM src_all"), count("SELECT * FROM src")
        report = MappingReport(mapping.name, str(source), rows_read, rows_read - rows_in)
        if write:
            drop_dir.mkdir(parents=True, exist_ok=True)
        for out in mapping.outputs:
            extract = contract.extracts[out["extract"]]
            base, kept, final = _output_stages(out, extract)
            path = drop_dir / f"{extract.name}_{drop_date:%Y%m%d}_{mapping.name}.csv"
            o = OutputReport(extract.name, str(path), count(final))
            n_base, rows_used = count(base), count(f"SELECT DISTINCT _row FROM ({base})")
            n_kept = count(kept)
            if out.get("explode"):
                o.dropped[f"empty list in {out['explode']['column']!r}"] = rows_in - rows_used
                o.added_by_explode = n_base - rows_used
            if out.get("filter"):
                o.dropped[f"output filter: {out['filter']}"] = n_base - n_kept
            if out.get("one_row_per"):
                o.dropped[f"folded into the first row of the same {out['one_row_per']}"] = n_kept - o.rows_written
            o.dropped = {k: v for k, v in o.dropped.items() if v}
            if write:  # sorted by every column, so the same export always gives the same bytes
                cols = ", ".join(q(c) for c in extract.column_names)
                con.execute(
                    f"COPY (SELECT {cols} FROM ({final}) ORDER BY ALL) TO {lit(str(path))} (FORMAT csv, HEADER true)"
                )
            report.outputs.append(o)
        if write:
            (drop_dir / f"_mapping_{mapping.name}.json").write_text(
                json.dumps(report_dict(report), indent=1) + "\n", encoding="utf-8"
            )
        return report
    except duckdb.Error as exc:
        raise MappingError(f"mapping {mapping.name} failed on {source}: {exc}") from None
    finally:
        con.close()


def report_dict(report: MappingReport) -> dict:
    return {
        "mapping": report.mapping,
        "export": Path(report.export).name,
        "rows_read": report.rows_read,
        "dropped_by_source_filter": report.dropped_by_source_filter,
        "outputs": [
            {
                "extract": o.extract,
                "file": Path(o.path).name,
                "rows_written": o.rows_written,
                "added_by_explode": o.added_by_explode,
                "dropped": o.dropped,
            }
            for o in report.outputs
        ],
    }


def preview(mapping: Mapping, source: Path, city_tz: str, rows: int = 5) -> str:
    """What the mapping would write, before it writes: first rows (sensitive columns masked), null share
    per column, and the date range of every timestamp column as landing will read it (a wrong century
    shows here)."""
    contract = load_contract()
    con = _open_export(mapping, source, city_tz)
    try:
        lines = []
        for out in mapping.outputs:
            extract = contract.extracts[out["extract"]]
            _, _, final = _output_stages(out, extract)
            con.execute(f"CREATE OR REPLACE TEMP TABLE preview AS {final}")
            total = con.execute("SELECT count(*) FROM preview").fetchone()[0]
            lines.append(f"== {extract.name}: {total:,} rows")
            # sensitive columns (names, addresses, narratives) never reach a terminal or a log
            shown = ", ".join("'(sensitive)'" if c.sensitive else q(c.name) for c in extract.columns)
            head = con.execute(f"SELECT {shown} FROM preview ORDER BY _row LIMIT {rows}").fetchall()
            lines += ["   " + " | ".join("" if v is None else str(v) for v in r) for r in head]
            for c in extract.columns:
                nulls = con.execute(f"SELECT count(*) FILTER (WHERE {q(c.name)} IS NULL) FROM preview").fetchone()[0]
                span = ""
                if c.type == "timestamp":
                    parsed = typed(c, contract, city_tz, q(c.name))
                    low, high, bad = con.execute(
                        f"SELECT min({parsed}), max({parsed}), count(*) FILTER (WHERE {q(c.name)} IS NOT NULL "
                        f"AND {parsed} IS NULL) FROM preview"
                    ).fetchone()
                    span = (f"  UTC {low} .. {high}" if low is not None else "") + (
                        f"  ({bad:,} unparseable)" if bad else ""
                    )
                share = nulls / total if total else 0
                lines.append(f"   {c.name:<28} null {share:6.1%}{span}")
        return "\n".join(lines)
    except duckdb.Error as exc:
        raise MappingError(f"mapping {mapping.name} failed on {source}: {exc}") from None
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    from orchestration.settings import load_settings

    p = argparse.ArgumentParser(
        prog="python -m orchestration.land.mapping",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("mapping", help="mapping name (<city folder>/mappings/<name>.yml, or a shipped example) or path")
    p.add_argument("export", type=Path, help="the city's export file")
    p.add_argument(
        "--out", type=Path, help="drop folder to write contract files into (default: <landing folder>/<date>)"
    )
    p.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="extract date: names the files and the drop folder (default: today)",
    )
    p.add_argument("--preview-only", action="store_true", help="print the preview and write nothing")
    args = p.parse_args(argv)
    try:
        settings = load_settings()
        mapping = Mapping.load(args.mapping, search=[settings.mappings_dir])
        tz = mapping.city_tz or settings.city_tz
        print(preview(mapping, args.export, tz))
        if args.preview_only:
            return 0
        out = args.out or settings.landing_dir / args.date.isoformat()
        report = map_export(mapping, args.export, out, args.date, city_tz=tz)
        print(report.summary())
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if mapping.city_tz and mapping.city_tz != settings.city_tz:
        print(
            f"note: the mapping's time zone is {mapping.city_tz}, the city folder's is {settings.city_tz}; "
            "land with the city folder whose time_zone matches the export"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
