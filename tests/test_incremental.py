"""Incremental hourly runs give exactly what a full rebuild gives.

A demo history lands in pieces through real Dagster runs on one warehouse: the staging and incident-level
models build incrementally, a rule changes mid-history (the next build is a full refresh), a later piece
carries late re-sends of an old day, one newer (it wins) and one older than what is stored (it loses), and
a last one moves calls and unit assignments of an old day to another incident.
A second warehouse lands the same files at once under the final rules. Every table BI reads (marts,
public marts) must match cell by cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import duckdb

from orchestration.__main__ import failed_checks, run_job
from orchestration.build_state import BUILDS_TABLE
from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.settings import DEMO_CITY_DIR, load_settings

HISTORY = DemoConfig(seed=11, start=dt.date(2023, 10, 15), days=24)
# drop folders (the days, then the trailing days of late case-management updates) landed by each run
PIECES = [range(0, 9), range(9, 14), range(14, 20), range(20, 27)]


def _use(monkeypatch, data_dir, city_dir):
    monkeypatch.setenv("ALT911_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALT911_CITY_DIR", str(city_dir))
    monkeypatch.setenv("ALT911_DEMO", "true")
    for name in ("ALT911_LANDING_DIR", "ALT911_WAREHOUSE", "ALT911_SERVING_DIR", "ALT911_QUALITY_DIR"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()


def _run(settings):
    result = run_job(settings, "main_job")
    assert result.success, failed_checks(result)
    return result


def _builds(settings) -> list[bool]:
    """full_refresh of every finished core dbt build, oldest first."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return [
            row[0]
            for row in con.execute(
                f"SELECT full_refresh FROM {BUILDS_TABLE} WHERE finished_at IS NOT NULL ORDER BY started_at"
            ).fetchall()
        ]


def _resend(source_day, folder, extract, hours_after, change) -> list[str]:
    """A late re-send of some rows of one extract of an old day, extracted `hours_after` the original (a
    negative number: an older extract that arrives late). Returns the keys re-sent."""
    (original,) = source_day.glob(f"{extract}_*.csv")
    with original.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))[:25]
    extracted_at = dt.datetime.fromisoformat(json.loads((source_day / "_manifest.json").read_text())["extracted_at"])
    folder.mkdir(parents=True)
    manifest = {"extracted_at": (extracted_at + dt.timedelta(hours=hours_after)).isoformat()}
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    with (folder / original.name).open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(change(dict(row)) for row in rows)
    return [next(iter(row.values())) for row in rows]


def _cells(con, catalog, table) -> str:
    """Every cell of a table; a floating-point cell to 6 decimals, because a sum of doubles depends on
    the order rows are added in, which SQL leaves open (it differs in the last bit between two builds)."""
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position",
        [catalog, schema, name],
    ).fetchall()
    cells = [f"round({c}, 6)" if kind in ("DOUBLE", "FLOAT") else c for c, kind in columns]
    return f"SELECT {', '.join(cells)} FROM {catalog}.{table}"


def _tables(con, catalog) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema IN ('marts', 'public_marts') ORDER BY 1, 2",
            [catalog],
        ).fetchall()
    ]


def test_incremental_runs_equal_a_full_rebuild(tmp_path, monkeypatch):
    source = tmp_path / "source"
    generate(HISTORY, source, tmp_path / "truth.json", progress=lambda m: None)
    days = sorted(p for p in source.iterdir() if p.is_dir())
    assert len(days) == HISTORY.days + HISTORY.trailing_drop_days == PIECES[-1][-1] + 1
    city = tmp_path / "city"
    shutil.copytree(DEMO_CITY_DIR, city)

    incremental = _use(monkeypatch, tmp_path / "incremental", city)
    for piece, day_numbers in enumerate(PIECES):
        if piece == 2:
            # a rule changes mid-history: WELFARE calls stop being eligible from 2023-10-20, which changes
            # eligibility of incidents already built
            rules = city / "rules" / "eligible_call_types.csv"
            text = rules.read_text()
            assert "heart,WELFARE,2022-06-01,," in text
            rules.write_text(text.replace("heart,WELFARE,2022-06-01,,", "heart,WELFARE,2022-06-01,2023-10-19,"))
        if piece == 3:
            # one day of the first piece comes again, late: a newer extract of some incidents and encounters
            # (it wins) and an older one than what is stored (it loses, whatever the landing order)
            old_day = days[2]
            resent = _resend(
                old_day,
                incremental.landing_dir / "resend-1",
                "cad_incidents",
                24 * 30,
                lambda r: {**r, "final_call_type": "MENTAL", "disposition_code": "CANCELLED"},
            )
            _resend(
                old_day,
                incremental.landing_dir / "resend-2",
                "cm_encounters",
                24 * 30,
                lambda r: {**r, "primary_outcome": "referred"},
            )
            _resend(old_day, incremental.landing_dir / "resend-3", "cad_incidents", -1, lambda r: {**r, "beat": "Z9"})
        for n in day_numbers:
            shutil.copytree(days[n], incremental.landing_dir / days[n].name)
        _run(incremental)
    # later still, a re-send moves some calls and unit assignments of an old day to another incident of that
    # day (a CAD merge): the incidents they left change too, though no row of theirs landed again
    moved_day = days[3]
    with next(moved_day.glob("cad_incidents_*.csv")).open(encoding="utf-8-sig", newline="") as f:
        target = list(csv.DictReader(f))[-1]["incident_number"]
    moved = {
        extract: _resend(
            moved_day,
            incremental.landing_dir / f"move-{extract}",
            extract,
            24 * 31,
            lambda r: {**r, "incident_number": target},
        )
        for extract in ("cad_calls", "cad_unit_assignments")
    }
    _run(incremental)
    builds = _builds(incremental)
    # the first build (empty warehouse: every table in full), an incremental one, a full refresh forced by the
    # rule change, then incremental ones that take the late re-sends and the moves
    assert builds == [True, False, True, False, False], builds

    # the same files at once, under the final rules, on a fresh warehouse
    full = _use(monkeypatch, tmp_path / "full", city)
    shutil.copytree(incremental.landing_dir, full.landing_dir)
    _run(full)
    assert _builds(full) == [True]

    con = duckdb.connect()
    con.execute(f"ATTACH '{incremental.serving_path}' AS inc (READ_ONLY)")
    con.execute(f"ATTACH '{full.serving_path}' AS reb (READ_ONLY)")
    tables = _tables(con, "reb")
    assert len(tables) > 20 and _tables(con, "inc") == tables
    for table in tables:
        rows = con.execute(f"SELECT count(*) FROM reb.{table}").fetchone()[0]
        differ = tuple(
            con.execute(
                f"SELECT count(*) FROM ({_cells(con, a, table)} EXCEPT ALL {_cells(con, b, table)})"
            ).fetchone()[0]
            for a, b in (("inc", "reb"), ("reb", "inc"))
        )
        assert differ == (0, 0), f"{table}: {differ[0]} rows only incremental, {differ[1]} only rebuilt"
        assert rows > 0 or table.startswith("public_marts."), table

    # the late re-sends did change the published incidents: the newer extract won, the older one lost
    changed = con.execute(
        "SELECT count(*) FILTER (WHERE call_type = 'MENTAL' AND disposition_code = 'CANCELLED'), "
        "count(*) FILTER (WHERE beat = 'Z9') FROM inc.marts.fct_incidents WHERE incident_number IN "
        "(SELECT unnest(?))",
        [resent],
    ).fetchone()
    assert changed == (len(resent), 0)
    # the moved calls and units count on the incident they moved to
    calls, units = con.execute(
        "SELECT call_count, assignment_count FROM inc.marts.fct_incidents WHERE incident_number = ?", [target]
    ).fetchone()
    assert calls >= len(moved["cad_calls"]) and units >= len(moved["cad_unit_assignments"]), (calls, units)
