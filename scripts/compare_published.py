"""Compare two published serving copies, table by table and row for row, before and after a refactor.

    python scripts/compare_published.py BEFORE_SERVING_DIR AFTER_SERVING_DIR

Each argument is a serving folder (data/serving) or a release folder in it. Every table of the
published schemas is compared as a multiset of rows (EXCEPT ALL both ways, so order does not matter and
duplicates count), after the column lists are compared. A table that differs only in the last bits of
floating-point values (a sum or mean over the same rows added in another order: DuckDB aggregates in
parallel, so even two runs of the same code may differ there) is reported as such, with the largest
difference, and compared again with doubles rounded to ROUND_DIGITS decimals. Exit status 0 when every
table is identical, or identical but for such float noise; 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SCHEMAS = ("marts", "public_marts")
ROUND_DIGITS = 9


def tables(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name in ? order by schema_name, table_name, column_index",
        [db, list(SCHEMAS)],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        out.setdefault(f"{schema}.{table}", []).append((column, data_type))
    return out


def _differences(con, table: str, columns: list[str]) -> tuple[int, int]:
    def only_in(first: str, second: str) -> int:
        select = ", ".join(columns)
        sql = f"select {select} from {first}.{table} except all select {select} from {second}.{table}"
        return con.execute(f"select count(*) from ({sql})").fetchone()[0]

    return only_in("before_db", "after_db"), only_in("after_db", "before_db")


def compare(before: Path, after: Path) -> list[str]:
    con = duckdb.connect()
    con.execute(f"attach '{before / 'alt911_marts.duckdb'}' as before_db (read_only)")
    con.execute(f"attach '{after / 'alt911_marts.duckdb'}' as after_db (read_only)")
    old, new = tables(con, "before_db"), tables(con, "after_db")
    problems = [f"{t}: only before" for t in sorted(set(old) - set(new))]
    problems += [f"{t}: only after" for t in sorted(set(new) - set(old))]
    for table in sorted(set(old) & set(new)):
        if old[table] != new[table]:
            problems.append(f"{table}: columns differ: {old[table]} vs {new[table]}")
            continue
        rows = con.execute(f"select count(*) from before_db.{table}").fetchone()[0]
        missing, added = _differences(con, table, [f'"{c}"' for c, _ in old[table]])
        status = "identical"
        if missing or added:
            rounded = [f'round("{c}", {ROUND_DIGITS})' if t == "DOUBLE" else f'"{c}"' for c, t in old[table]]
            if _differences(con, table, rounded) == (0, 0):
                status = f"identical to {ROUND_DIGITS} decimals ({missing} row(s) differ in float last bits)"
            else:
                status = f"DIFFERS: {missing} row(s) gone, {added} new"
                problems.append(f"{table}: {missing} row(s) only before, {added} only after")
        print(f"{table:<55} {rows:>9,} rows  {status}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = compare(Path(argv[0]), Path(argv[1]))
    print("every published table is identical" if not problems else "\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
