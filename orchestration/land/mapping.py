"""Map a city's own CAD export into contract extract files, by configuration only.

A mapping (orchestration/land/mappings/<name>.yml) says how to read the export (header or column
names, null tokens) and, for each contract extract it feeds, one DuckDB SQL expression per contract
column over the export's columns. The mapped files are written into a drop folder and then landed
like any other extract, so every row still ends loaded or quarantined with a reason.

    python -m orchestration.land.mapping seattle_spd_call_data path/to/export.csv --out data/landing/2024-01-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from orchestration.contract import load_contract
from orchestration.land.validate import lit, q

MAPPINGS_DIR = Path(__file__).with_name("mappings")


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
    def load(cls, name_or_path: str | Path) -> "Mapping":
        path = Path(name_or_path)
        if not path.suffix:
            path = MAPPINGS_DIR / f"{name_or_path}.yml"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml")))
            raise MappingError(f"no mapping {name_or_path!r} (known: {known})")
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        contract = load_contract()
        for out in spec["outputs"]:
            extract = contract.extracts.get(out["extract"])
            if extract is None:
                raise MappingError(f"{path.name}: unknown extract {out['extract']!r}")
            missing = [c for c in extract.column_names if c not in out["columns"]]
            extra = [c for c in out["columns"] if c not in extract.column_names]
            if missing or extra:
                raise MappingError(f"{path.name} -> {extract.name}: columns missing {missing}, not in the contract {extra} "
                                   "(map every contract column; use NULL for ones the export lacks)")
        return cls(path.stem, spec["description"], spec["city_tz"], spec.get("source", {}), spec["outputs"])


def map_export(mapping: Mapping, source: Path, drop_dir: Path, drop_date: dt.date) -> list[Path]:
    """Write one contract file per output of `mapping` into drop_dir; returns their paths."""
    source, drop_dir = Path(source), Path(drop_dir)
    if not source.exists():
        raise MappingError(f"export {source} does not exist")
    drop_dir.mkdir(parents=True, exist_ok=True)
    src = mapping.source
    options = ["all_varchar = true", "quote = '\"'", "escape = '\"'", "strict_mode = false"]
    if src.get("header", True):
        options.append("header = true")
    else:
        options += ["header = false", f"names = [{', '.join(lit(n) for n in src['columns'])}]"]
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE export AS SELECT * FROM read_csv({lit(str(source))}, {', '.join(options)})")
        tokens = src.get("null_tokens", [""])
        cols = [r[0] for r in con.execute("DESCRIBE export").fetchall()]
        nulls = ", ".join(
            f"CASE WHEN trim({q(c)}) IN ({', '.join(lit(t) for t in tokens)}) THEN NULL ELSE trim({q(c)}) END AS {q(c)}"
            for c in cols)
        con.execute(f"CREATE VIEW src AS SELECT {nulls} FROM export")
        written = []
        for out in mapping.outputs:
            extract = load_contract().extracts[out["extract"]]
            select = ", ".join(f"CAST({out['columns'][c] or 'NULL'} AS VARCHAR) AS {q(c)}" for c in extract.column_names)
            sql = f"SELECT {select} FROM src"
            if out.get("one_row_per"):  # exports with one row per unit feed incidents once per incident
                sql = (f"SELECT * FROM ({sql}) QUALIFY row_number() OVER (PARTITION BY {q(out['one_row_per'])} "
                       f"ORDER BY {q(out.get('first_by', out['one_row_per']))}) = 1")
            path = drop_dir / f"{extract.name}_{drop_date:%Y%m%d}_{mapping.name}.csv"
            con.execute(f"COPY ({sql}) TO {lit(str(path))} (FORMAT csv, HEADER true)")
            written.append(path)
        return written
    except duckdb.Error as exc:
        raise MappingError(f"mapping {mapping.name} failed on {source}: {exc}") from None
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestration.land.mapping", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mapping", help="mapping name (orchestration/land/mappings/<name>.yml) or path")
    p.add_argument("export", type=Path, help="the city's export file")
    p.add_argument("--out", type=Path, required=True, help="drop folder to write contract files into")
    p.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today(), help="extract date for file names")
    args = p.parse_args(argv)
    try:
        mapping = Mapping.load(args.mapping)
        for path in map_export(mapping, args.export, args.out, args.date):
            print(f"wrote {path}")
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"land with ALT911_CITY_TZ={mapping.city_tz} (the export's local time zone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
