"""Publish the audited serving copy to PostgreSQL, for BI tools that connect best to a server.

The last step of write-audit-publish when ALT911_PUBLISH_POSTGRES=true. Tables are loaded into
`<schema>__incoming` schemas first; then one transaction drops the old `marts`, `public_marts` and
`reference` (code labels), renames the incoming ones into place and grants read access. Every table
and column keeps its dbt description as a PostgreSQL comment. A BI session sees the old schemas or the
new ones, never a mixture, and a failed load leaves the last good data where it was.

Views analysts built elsewhere on the published tables are kept: the same transaction recreates them,
with their grants, on the new tables. When one no longer fits (it reads a column a mart dropped), the
publish refuses, names the view, and leaves everything as it was. No dbt build writes these schemas:
dbt's PostgreSQL target builds into <schema>_<layer> (macros/generate_schema_name.sql).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.land.validate import lit
from orchestration.settings import Settings

PUBLISHED = ("marts", "public_marts", "reference")  # reference: the code labels charts need
PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIME": "time",
    "BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str
    bi_role: str
    public_role: str

    @classmethod
    def from_env(cls) -> PostgresSettings:
        return cls(
            host=os.environ.get("ALT911_PG_HOST", "localhost"),
            port=int(os.environ.get("ALT911_PG_PORT", "5432")),
            user=os.environ.get("ALT911_PG_USER", "alt911"),
            password=os.environ.get("ALT911_PG_PASSWORD", ""),
            database=os.environ.get("ALT911_PG_DATABASE", "alt911"),
            bi_role=os.environ.get("ALT911_PG_BI_USER", "alt911_bi"),
            public_role=os.environ.get("ALT911_PG_PUBLIC_USER", "alt911_public"),
        )

    def connect(self, user: str | None = None, password: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            dbname=self.database,
            user=user or self.user,
            password=self.password if password is None else password,
        )


def copy_schema(
    source: duckdb.DuckDBPyConnection, schema: str, cur, target_schema: str, only: tuple[str, ...] = ()
) -> dict[str, int]:
    """Create target_schema in PostgreSQL with every table of a DuckDB schema (or only those named),
    loaded with COPY."""
    cur.execute(f'DROP SCHEMA IF EXISTS "{target_schema}" CASCADE; CREATE SCHEMA "{target_schema}"')
    counts = {}
    tables = [
        r[0]
        for r in source.execute(
            "select table_name from duckdb_tables() where schema_name = ? order by 1", [schema]
        ).fetchall()
        if not only or r[0] in only
    ]
    for table in tables:
        cols = source.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = ? "
            "and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
        ddl = ", ".join(f'"{c}" {PG_TYPES[t]}' for c, t in cols)
        cur.execute(f'CREATE TABLE "{target_schema}"."{table}" ({ddl})')
        _copy_comments(source, schema, table, cur, target_schema)
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "table.csv"
            source.execute(
                f"COPY {schema}.\"{table}\" TO {lit(str(csv_path))} (FORMAT csv, HEADER false, NULLSTR '\\N')"
            )
            with open(csv_path, encoding="utf-8") as fh:
                cur.copy_expert(f'COPY "{target_schema}"."{table}" FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', fh)
        counts[f"{schema}.{table}"] = cur.rowcount
    return counts


def _copy_comments(source: duckdb.DuckDBPyConnection, schema: str, table: str, cur, target_schema: str) -> None:
    """dbt's descriptions, persisted as comments in DuckDB, become PostgreSQL comments: BI tools show them."""
    (comment,) = source.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
    ).fetchone()
    if comment:
        cur.execute(f'COMMENT ON TABLE "{target_schema}"."{table}" IS %s', [comment])
    for column, comment in source.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ? "
        "and comment is not null",
        [schema, table],
    ).fetchall():
        cur.execute(f'COMMENT ON COLUMN "{target_schema}"."{table}"."{column}" IS %s', [comment])


def copy_raw_to_postgres(warehouse_path, pg: PostgresSettings | None = None) -> dict[str, int]:
    """The landed raw tables, copied into PostgreSQL's `raw` schema, so that the same dbt project can
    build there (`dbt build --target postgres`) for a city that keeps its warehouse on a server; with
    the landing ledger (counts only; the quarantined rows themselves stay behind)."""
    pg = pg or PostgresSettings.from_env()
    source = duckdb.connect(str(warehouse_path), read_only=True)
    conn = pg.connect()
    try:
        with conn:
            counts = copy_schema(source, "raw", conn.cursor(), "raw")
            return counts | copy_schema(source, "land", conn.cursor(), "land", only=("file_ledger",))
    finally:
        conn.close()
        source.close()


class DependentViewBroken(RuntimeError):
    """A view outside the published schemas cannot be recreated on the new marts."""


# Every view and materialized view outside the published schemas, with each relation it reads (a row
# per edge) and what recreating it needs.
VIEW_EDGES_SQL = """
select distinct v.oid, vn.nspname, v.relname, v.relkind, pg_get_viewdef(v.oid),
       (select coalesce(array_agg(g.grantee || ':' || g.privilege_type), '{}')
        from information_schema.role_table_grants g
        where g.table_schema = vn.nspname and g.table_name = v.relname and g.grantee <> g.grantor),
       t.oid, tn.nspname
from pg_depend d
join pg_rewrite r on r.oid = d.objid
join pg_class v on v.oid = r.ev_class
join pg_namespace vn on vn.oid = v.relnamespace
join pg_class t on t.oid = d.refobjid
join pg_namespace tn on tn.oid = t.relnamespace
where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass and v.oid <> t.oid
  and vn.nspname <> all(%(published)s)
"""


def dependent_views(cur) -> list[tuple]:
    """Every view outside the published schemas that reads them, directly or through another view, in
    creation order (a view on a view comes after it): (oid, schema, name, kind, definition, grants)."""
    cur.execute(VIEW_EDGES_SQL, {"published": list(PUBLISHED)})
    edges = cur.fetchall()
    found: dict[int, tuple] = {}
    while True:
        new = {e[0]: e[:6] for e in edges if e[0] not in found and (e[7] in PUBLISHED or e[6] in found)}
        if not new:
            return [found[oid] for oid in sorted(found)]
        found.update(new)


def _recreate_views(cur, views: list[tuple]) -> None:
    for _, schema, name, kind, definition, grants in views:
        what = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
        cur.execute("SAVEPOINT view_recreate")
        try:
            cur.execute(f'CREATE {what} "{schema}"."{name}" AS {definition}')
        except Exception as exc:
            cur.execute("ROLLBACK TO SAVEPOINT view_recreate")
            raise DependentViewBroken(
                f"publishing to PostgreSQL refused: the view {schema}.{name}, built on the published marts, "
                f"does not fit the new marts ({str(exc).strip().splitlines()[0]}). Nothing was changed; fix or "
                f"drop that view, then publish again."
            ) from None
        for grant in grants:
            grantee, privilege = grant.split(":", 1)
            cur.execute(f'GRANT {privilege} ON "{schema}"."{name}" TO "{grantee}"')


def publish_to_postgres(settings: Settings, pg: PostgresSettings | None = None) -> dict[str, int]:
    """Copy every table of the serving copy's published schemas into PostgreSQL and swap them in."""
    pg = pg or PostgresSettings.from_env()
    source = duckdb.connect(str(settings.serving_path), read_only=True)
    conn = pg.connect()
    counts: dict[str, int] = {}
    try:
        with conn:  # load into incoming schemas: nothing visible to readers yet
            cur = conn.cursor()
            for schema in PUBLISHED:
                counts.update(copy_schema(source, schema, cur, f"{schema}__incoming"))
        try:
            with conn:  # swap: one short transaction; DDL is transactional in PostgreSQL
                cur = conn.cursor()
                views = dependent_views(cur)  # analysts' views: dropped with the old schemas, then recreated
                for schema in PUBLISHED:
                    cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    cur.execute(f'ALTER SCHEMA "{schema}__incoming" RENAME TO "{schema}"')
                _recreate_views(cur, views)
                cur.execute(f'GRANT USAGE ON SCHEMA marts, public_marts, reference TO "{pg.bi_role}"')
                cur.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA marts, public_marts, reference TO "{pg.bi_role}"')
                # the public role reads suppressed marts and the code labels (no person-level data in either)
                cur.execute(f'GRANT USAGE ON SCHEMA public_marts, reference TO "{pg.public_role}"')
                cur.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public_marts, reference TO "{pg.public_role}"')
        except Exception:
            with conn:  # the swap rolled back: the last good schemas stand; the loaded copies go
                for schema in PUBLISHED:
                    conn.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}__incoming" CASCADE')
            raise
    finally:
        conn.close()
        source.close()
    return counts
