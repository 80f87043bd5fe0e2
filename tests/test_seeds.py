"""Reference seeds load through real dbt on DuckDB and encode Durham's history correctly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt import sync_city_rules
from orchestration.settings import DEMO_CITY_DIR
from tests.conftest import REPO

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(args, tmp_path, warehouse):
    sync_city_rules(DEMO_CITY_DIR)  # the demo city's rules, where dbt reads them
    env = dict(
        os.environ,
        ALT911_WAREHOUSE=str(warehouse),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    out = subprocess.run(
        [DBT, *args, "--profiles-dir", str(REPO / "profiles")],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:]
    return out.stdout


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seeds")
    warehouse = tmp / "w.duckdb"
    dbt(["parse", "--warn-error-options", '{"error": ["Deprecations"]}'], tmp, warehouse)
    out = dbt(["build", "--select", "resource_type:seed", "--indirect-selection", "cautious"], tmp, warehouse)
    assert "ERROR=0" in out and "PASS=" in out
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def in_force(con, table, day, extra=""):
    return con.execute(
        f"SELECT * FROM reference.{table} WHERE program = 'heart' AND valid_from <= DATE '{day}' "
        f"AND (valid_to IS NULL OR DATE '{day}' <= valid_to) {extra}"
    ).fetchall()


def test_pilot_covered_part_of_the_city_on_weekdays(seeded):
    assert len(in_force(seeded, "service_area_beats", "2023-10-20")) == 20
    assert len(in_force(seeded, "operating_hours", "2023-10-20")) == 5  # Monday-Friday
    assert in_force(seeded, "operating_hours", "2023-10-21", "AND day_of_week = 6") == []


def test_citywide_seven_days_twelve_hours_from_2023_10_23(seeded):
    assert len(in_force(seeded, "service_area_beats", "2023-10-23")) == 50
    rows = in_force(seeded, "operating_hours", "2023-10-23")
    assert sorted(r[1] for r in rows) == [1, 2, 3, 4, 5, 6, 7]
    for r in rows:
        start, end = r[2], r[3]
        assert (end.hour - start.hour) == 12


def test_rules_never_overlap(seeded):
    overlaps = seeded.execute("""
        SELECT count(*) FROM reference.operating_hours a JOIN reference.operating_hours b
          ON a.program = b.program AND a.day_of_week = b.day_of_week AND a.valid_from < b.valid_from
         AND (a.valid_to IS NULL OR a.valid_to >= b.valid_from)""").fetchone()[0]
    assert overlaps == 0


def test_eligibility_list_changes_over_time(seeded):
    assert {r[1] for r in in_force(seeded, "eligible_call_types", "2023-12-31")} >= {"PANHANDL"}
    assert "SUICIDE_NW" not in {r[1] for r in in_force(seeded, "eligible_call_types", "2023-12-31")}
    assert "SUICIDE_NW" in {r[1] for r in in_force(seeded, "eligible_call_types", "2024-01-01")}
    assert "PANHANDL" not in {r[1] for r in in_force(seeded, "eligible_call_types", "2024-04-01")}


def test_police_time_parameters_are_documented_assumptions(seeded):
    rows = seeded.execute("SELECT parameter, value, source FROM reference.police_time_parameters").fetchall()
    params = {p: v for p, v, _ in rows}
    assert params["displacement_factor"] == 1.0
    assert 1.5 <= params["fallback_police_units_per_incident"] <= 2.0
    assert 0.5 <= params["fallback_police_hours_per_unit"] <= 1.0
    assert all(src for _, _, src in rows)
