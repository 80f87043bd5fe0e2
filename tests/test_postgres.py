"""PostgreSQL on a real server (set up by scripts/postgres_setup.sh, which `make test` runs first):
the same dbt project builds and passes there, publishing swaps marts in with roles that see only
what they should, and the cookbook answers the same on both engines."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re

import duckdb
import pytest

from orchestration.dbt import build_args, dbt_env, run_dbt
from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.serving import postgres as pgmod
from orchestration.serving.postgres import PostgresSettings, copy_raw_to_postgres, publish_to_postgres
from orchestration.serving.publish import publish
from orchestration.settings import REPO_ROOT, load_settings
from tests.conftest import build_warehouse

# The loopback test server's defaults (scripts/postgres_setup.sh); CI may override them.
PG_ENV = {
    "ALT911_PG_HOST": "127.0.0.1",
    "ALT911_PG_PORT": "5432",
    "ALT911_PG_USER": "alt911",
    "ALT911_PG_PASSWORD": "alt911-local-only",
    "ALT911_PG_DATABASE": "alt911_test",
    "ALT911_PG_BI_USER": "alt911_bi",
    "ALT911_PG_PUBLIC_USER": "alt911_public",
}
BI_PASSWORD = os.environ.get("ALT911_PG_BI_PASSWORD", "bi-local-only")
PUBLIC_PASSWORD = os.environ.get("ALT911_PG_PUBLIC_PASSWORD", "public-local-only")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small city built on DuckDB, then on PostgreSQL by the same dbt project, then published."""
    for k, v in PG_ENV.items():
        os.environ.setdefault(k, v)
    pg = PostgresSettings.from_env()
    try:
        pg.connect().close()
    except Exception as exc:  # a clear error, not a skip: the suite needs the server
        pytest.fail(
            f"no PostgreSQL at {pg.host}:{pg.port}/{pg.database} ({exc}); run scripts/postgres_setup.sh "
            "(make test does) or set ALT911_PG_* to an existing server"
        )
    tmp = tmp_path_factory.mktemp("postgres")
    generate(
        DemoConfig(seed=13, start=dt.date(2023, 10, 16), days=21),
        tmp / "landing",
        tmp / "truth.json",
        progress=lambda m: None,
    )
    build_warehouse(tmp / "landing", tmp / "warehouse.duckdb", tmp)
    settings = load_settings(data_dir=tmp, warehouse_path=tmp / "warehouse.duckdb")

    copy_raw_to_postgres(settings.warehouse_path, pg)
    # schemas a dbt build wrote before builds had their own (an older version of this project): gone,
    # so the test can see that no build writes them again
    conn = pg.connect()
    conn.autocommit = True
    for schema in ("reference", "staging", "intermediate"):
        conn.cursor().execute(f'drop schema if exists "{schema}" cascade')
    # and a developer's schemas from an earlier session: this build starts from nothing, as on a new server
    # (on an old one, a staging model whose columns changed fails loudly until built with --full-refresh)
    cur = conn.cursor()
    cur.execute("select schema_name from information_schema.schemata where schema_name like %s", [f"{DEV_SCHEMA}\\_%"])
    for (schema,) in cur.fetchall():
        conn.cursor().execute(f'drop schema "{schema}" cascade')
    conn.close()
    publish(settings, "pg-test")
    publish_to_postgres(settings, pg)
    published_before_dbt = fetch(pg.connect(), PUBLISHED_FINGERPRINT_SQL)
    # a developer's `dbt build --target postgres` after a publish: it must land in its own schemas
    env = dbt_env(
        settings,
        ALT911_DEMO="true",
        ALT911_DBT_SCHEMA=DEV_SCHEMA,
        DBT_TARGET_PATH=str(tmp / "pg_target"),
        DBT_LOG_PATH=str(tmp / "pg_logs"),
    )
    out = run_dbt([*build_args(), "--target", "postgres"], env=env)
    dbt_on_postgres = dict(returncode=out.returncode, stdout=out.stdout)
    kpis_built_on_postgres = (
        fetch(pg.connect(), KPI_SQL.replace("marts.", f"{DEV_SCHEMA}_marts.")) if out.returncode == 0 else None
    )
    return dict(
        settings=settings,
        pg=pg,
        dbt=dbt_on_postgres,
        kpis_pg=kpis_built_on_postgres,
        published_before_dbt=published_before_dbt,
    )


DEV_SCHEMA = "dev_test"  # ALT911_DBT_SCHEMA: the prefix of a developer's own schemas on the postgres target
PUBLISHED_FINGERPRINT_SQL = (
    "select table_schema, table_name, count(*) from information_schema.columns "
    "where table_schema in ('marts', 'public_marts') group by 1, 2 order by 1, 2"
)
KPI_SQL = (
    "select metric, period_grain, cast(period_start as varchar), coalesce(dimension_value, ''), numerator, "
    "denominator, value from marts.mart_kpis order by 1, 2, 3, 4"
)


def fetch(conn, sql):
    try:
        cur = conn.cursor() if hasattr(conn, "cursor") else conn
        cur.execute(sql)
        return [tuple(_norm(v) for v in row) for row in cur.fetchall()]
    finally:
        if hasattr(conn, "close"):
            conn.close()


def execute(pg, sql):
    conn = pg.connect()
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def _norm(v):
    if isinstance(v, (float, decimal.Decimal)):
        return round(float(v), 6)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def test_the_dbt_project_builds_and_passes_on_postgres(city):
    assert city["dbt"]["returncode"] == 0, city["dbt"]["stdout"][-4000:]
    assert "ERROR=0" in city["dbt"]["stdout"]
    duck = fetch(duckdb.connect(str(city["settings"].warehouse_path), read_only=True), KPI_SQL)
    assert city["kpis_pg"] == duck  # the same numbers on both engines, row for row


def test_a_dbt_build_on_postgres_never_writes_the_schemas_bi_reads(city):
    """The build ran after a publish: it made only dev_test_* schemas, and marts/public_marts are as published."""
    pg = city["pg"]
    assert fetch(pg.connect(), PUBLISHED_FINGERPRINT_SQL) == city["published_before_dbt"]
    mart_tables = fetch(pg.connect(), "select count(*) from information_schema.tables where table_schema = 'marts'")
    assert mart_tables[0][0] == len([r for r in city["published_before_dbt"] if r[0] == "marts"])
    built = {
        r[0]
        for r in fetch(
            pg.connect(),
            "select distinct table_schema from information_schema.tables "
            "where table_name like 'stg\\_%' or table_name like 'int\\_%' "
            "or table_name like 'fct\\_%' or table_name like 'mart\\_%'",
        )
    }
    assert built == {f"{DEV_SCHEMA}_staging", f"{DEV_SCHEMA}_intermediate", f"{DEV_SCHEMA}_marts", "marts"}, built
    layers = fetch(pg.connect(), "select count(*) from pg_namespace where nspname in ('staging', 'intermediate')")
    assert layers == [(0,)]  # person-level staging tables never reach the server BI reads from


def _publish_with_analyst_views(city):
    pg = city["pg"]
    execute(
        pg,
        "drop schema if exists analyst cascade; create schema analyst; "
        "create view analyst.served_by_month as select period_start, served_eligible_incidents "
        "from marts.mart_eligibility where period_grain = 'month'; "
        "create view analyst.served_total as select sum(served_eligible_incidents) as served "
        "from analyst.served_by_month; "
        f'grant usage on schema analyst to "{pg.bi_role}"; '
        f'grant select on analyst.served_by_month, analyst.served_total to "{pg.bi_role}"',
    )


def test_an_analysts_views_on_the_marts_survive_a_publish(city):
    pg = city["pg"]
    _publish_with_analyst_views(city)
    expected = fetch(
        pg.connect(), "select sum(served_eligible_incidents) from marts.mart_eligibility where period_grain = 'month'"
    )
    publish_to_postgres(city["settings"], pg)
    # both views (one on the other) still answer, for the BI role too, on the new tables
    assert fetch(pg.connect(pg.bi_role, BI_PASSWORD), "select served from analyst.served_total") == expected
    execute(pg, "drop schema analyst cascade")


def test_a_view_the_new_marts_would_break_stops_the_publish_by_name(city, monkeypatch):
    pg = city["pg"]
    _publish_with_analyst_views(city)
    before = fetch(pg.connect(), "select count(*), sum(value) from marts.mart_kpis")
    original = pgmod.copy_schema

    def copy_then_rename(source, schema, cur, target):  # a new release without a column the view reads
        counts = original(source, schema, cur, target)
        if schema == "marts":
            cur.execute(f'alter table "{target}".mart_eligibility rename column served_eligible_incidents to renamed')
        return counts

    monkeypatch.setattr(pgmod, "copy_schema", copy_then_rename)
    with pytest.raises(pgmod.DependentViewBroken, match="analyst.served_by_month"):
        publish_to_postgres(city["settings"], pg)
    assert fetch(pg.connect(), "select count(*), sum(value) from marts.mart_kpis") == before
    assert fetch(pg.connect(pg.bi_role, BI_PASSWORD), "select count(*) from analyst.served_total") == [(1,)]
    assert fetch(pg.connect(), "select nspname from pg_namespace where nspname like '%\\_\\_incoming'") == []
    execute(pg, "drop schema analyst cascade")


def test_the_bi_role_reads_marts_and_public_marts_only(city):
    pg = city["pg"]
    conn = pg.connect(pg.bi_role, BI_PASSWORD)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("select count(*) from marts.mart_kpis")
    assert cur.fetchone()[0] > 0
    cur.execute("select count(*) from public_marts.pub_forgone_by_reason_monthly")
    assert cur.fetchone()[0] > 0
    for table in (
        "raw.cad_incidents",
        f"{DEV_SCHEMA}_staging.stg_case_management__people",
        f"{DEV_SCHEMA}_intermediate.int_incidents_eligibility",
        f"{DEV_SCHEMA}_reference.call_types",
    ):
        with pytest.raises(Exception, match="permission denied"):
            cur.execute(f"select 1 from {table} limit 1")
    with pytest.raises(Exception, match="permission denied"):
        cur.execute("create table marts.sneaky (x int)")
    conn.close()


def test_bi_tools_see_every_description_and_the_code_labels(city):
    """dbt's descriptions reach PostgreSQL as comments (a BI tool shows them), and the label tables are
    published beside the marts, readable by both roles."""
    pg = city["pg"]
    undocumented = fetch(
        pg.connect(),
        "select c.table_schema || '.' || c.table_name || '.' || c.column_name from information_schema.columns c "
        "where c.table_schema in ('marts', 'public_marts') and col_description("
        "(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass, c.ordinal_position) is null",
    )
    assert undocumented == []
    tables = fetch(
        pg.connect(),
        "select count(*), count(obj_description(c.oid, 'pg_class')) from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('marts', 'public_marts') and c.relkind = 'r'",
    )
    assert tables[0][0] > 20 and tables[0][0] == tables[0][1]
    (unit_doc,) = fetch(
        pg.connect(),
        "select col_description('marts.mart_kpis'::regclass, ordinal_position) from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'mart_kpis' and column_name = 'unit'",
    )[0]
    assert unit_doc.startswith("What the value counts")  # as written in mart_kpis.yml
    for role, password in ((pg.bi_role, BI_PASSWORD), (pg.public_role, PUBLIC_PASSWORD)):
        labels = fetch(pg.connect(role, password), "select code, label from reference.not_served_reasons")
        assert ("outside_hours", "Outside service hours") in labels


def test_the_public_role_reads_public_marts_only(city):
    pg = city["pg"]
    conn = pg.connect(pg.public_role, PUBLIC_PASSWORD)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("select count(*) from public_marts.pub_incident_volume_monthly")
    assert cur.fetchone()[0] > 0
    for table in ("marts.fct_incidents", "marts.fct_encounters", "raw.cm_people"):
        with pytest.raises(Exception, match="permission denied"):
            cur.execute(f"select 1 from {table} limit 1")
    # what the public sees has no small cells
    cur.execute(
        "select count(*) from public_marts.pub_forgone_by_reason_monthly where forgone_incidents between 1 and 10"
    )
    assert cur.fetchone()[0] == 0
    conn.close()


def test_a_failed_publish_leaves_the_last_good_data(city, monkeypatch):
    pg = city["pg"]
    before = fetch(pg.connect(pg.bi_role, BI_PASSWORD), "select count(*), sum(value) from marts.mart_kpis")
    original = pgmod.copy_schema

    def copy_then_fail(source, schema, cur, target):
        counts = original(source, schema, cur, target)
        if schema == "public_marts":
            raise RuntimeError("connection lost while loading")
        return counts

    monkeypatch.setattr(pgmod, "copy_schema", copy_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        publish_to_postgres(city["settings"], pg)
    assert fetch(pg.connect(pg.bi_role, BI_PASSWORD), "select count(*), sum(value) from marts.mart_kpis") == before
    leftovers = fetch(pg.connect(), "select nspname from pg_namespace where nspname like '%__incoming'")
    assert leftovers == []


def cookbook_queries():
    text = (REPO_ROOT / "docs" / "cookbook.md").read_text(encoding="utf-8")
    return re.findall(r"^## (\d+)\. (.+?)\n\n```sql\n(.+?)```", text, flags=re.M | re.S)


def test_the_cookbook_has_ten_questions():
    assert [int(n) for n, _, _ in cookbook_queries()] == list(range(1, 11))


@pytest.mark.parametrize("number,question,sql", cookbook_queries(), ids=lambda x: x if str(x).isdigit() else "")
def test_each_cookbook_query_answers_the_same_on_duckdb_and_postgres(city, number, question, sql):
    pg = city["pg"]
    on_duckdb = fetch(duckdb.connect(str(city["settings"].serving_path), read_only=True), sql)
    on_postgres = fetch(pg.connect(pg.bi_role, BI_PASSWORD), sql)
    assert on_duckdb, f"query {number} returned nothing: {question}"
    assert on_duckdb == on_postgres


def test_the_main_job_publishes_to_postgres_with_one_flag(city, tmp_path, monkeypatch):
    """ALT911_PUBLISH_POSTGRES=true: the main job's publish step also swaps the PostgreSQL schemas in."""
    from orchestration.__main__ import failed_checks, run_job, write_demo_drops

    monkeypatch.setenv("ALT911_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ALT911_DEMO", "true")
    monkeypatch.setenv("ALT911_PUBLISH_POSTGRES", "true")
    for name in ("ALT911_LANDING_DIR", "ALT911_WAREHOUSE", "ALT911_SERVING_DIR", "ALT911_QUALITY_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    write_demo_drops(settings, years=0.03, start=dt.date(2024, 2, 5), seed=99, progress=lambda m: None)
    result = run_job(settings, "main_job")
    assert result.success, failed_checks(result)
    pg = city["pg"]
    sql = "select count(*), sum(incidents) from marts.mart_eligibility where period_grain = 'all'"
    assert fetch(pg.connect(pg.bi_role, BI_PASSWORD), sql) == fetch(
        duckdb.connect(str(settings.serving_path), read_only=True), sql
    )

    # PostgreSQL took this release, so a run with nothing new skips; had it not (the files switched,
    # then the server failed), the next run with nothing new publishes again instead of skipping
    from orchestration.__main__ import published_in
    from orchestration.build_state import POSTGRES_RECORD

    assert not published_in(run_job(settings, "main_job"))
    (settings.serving_dir / POSTGRES_RECORD).unlink()
    again = run_job(settings, "main_job")
    assert again.success and published_in(again), failed_checks(again)
    assert (settings.serving_dir / POSTGRES_RECORD).exists()
