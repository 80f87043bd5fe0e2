"""A real city by configuration alone: Eugene's CAD export (police and CAHOOTS in one CAD, times as
seconds after the call) publishes through cities/eugene with the README's commands, nothing edited.

Expected figures are computed here straight from the source CSV with the csv module, applying the
documented rules (the prime unit is the assignment; it counts when dispatched; the city's row limits
quarantine an arrival more than 240 minutes after dispatch, a unit time over 24 hours and a close
before arrival), independently of the mapping, landing and dbt code."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import FIXTURES, REPO, clean_env

CITY = REPO / "cities" / "eugene"
SLICES = {
    2024: ("eugene_cad_calls_epd_cahoots_2024-03-24_to_2024-04-20.csv", "2024-04-21"),
    2025: ("eugene_cad_calls_epd_cahoots_2025-03-24_to_2025-04-20.csv", "2025-04-21"),
}


def run(args, env):
    out = subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-3000:]
    return out.stdout


_PUBLISHED: dict[int, dict] = {}


def publish(year, tmp_path_factory) -> dict:
    """One slice mapped, landed and published by the main job, with the city folder set and nothing else."""
    if year not in _PUBLISHED:
        tmp = tmp_path_factory.mktemp(f"eugene{year}")
        export, drop_date = SLICES[year]
        env = clean_env(ALT911_CITY_DIR=str(CITY), ALT911_DATA_DIR=str(tmp), ALT911_PERSON_KEY="test-only-key")
        mapped = run(["orchestration.land.mapping", "eugene_cad", str(FIXTURES / export), "--date", drop_date], env)
        landed = run(["orchestration", "land"], env)
        con = duckdb.connect(str(tmp / "serving" / "alt911_marts.duckdb"), read_only=True)
        _PUBLISHED[year] = dict(con=con, rows=source_rows(export), mapped=mapped, landed=landed, tmp=tmp)
    return _PUBLISHED[year]


@pytest.fixture(scope="module", params=sorted(SLICES), ids=lambda y: f"eugene{y}")
def published(request, tmp_path_factory):
    return publish(request.param, tmp_path_factory)


def source_rows(export):
    with open(FIXTURES / export, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def seconds(value):
    return float(value) if value.strip() else None


def cahoots_assignments(rows):
    """Prime-unit CAHOOTS assignments that land: dispatched, and within the city's row limits."""
    kept = []
    for r in rows:
        unit = r["primeunit"].strip()
        disp, arrv, close = seconds(r["secs_to_disp"]), seconds(r["secs_to_arrv"]), seconds(r["secs_to_close"])
        if unit not in ("CAHOOT", "CAHOT") or disp is None:
            continue
        if arrv is not None and (arrv < disp or (arrv - disp) / 60 > 240 or close < arrv):
            continue  # quarantined: out of order or over max_dispatch_to_arrival_minutes
        if (close - disp) / 3600 > 24:
            continue  # quarantined: over max_assignment_hours
        kept.append(r)
    return kept


def scalar(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()[0]


def test_every_incident_is_published(published):
    con, rows = published["con"], published["rows"]
    assert scalar(con, "select incidents from marts.mart_eligibility where period_grain = 'all'") == len(rows)
    assert "cad_incidents" in published["landed"] and "main_job succeeded" in published["landed"]


def test_cahoots_served_count_equals_the_csv(published):
    con, rows = published["con"], published["rows"]
    served = scalar(
        con,
        "select sum(incidents) from marts.mart_incident_volume where period_grain = 'all' and served_by_team = 'crt'",
    )
    assert served == len(cahoots_assignments(rows)) > 500


def test_cahoots_median_dispatch_to_arrival_equals_the_csv(published):
    con, rows = published["con"], published["rows"]
    minutes = [
        (float(r["secs_to_arrv"]) - float(r["secs_to_disp"])) / 60
        for r in cahoots_assignments(rows)
        if r["secs_to_arrv"].strip() and r["callsource"].strip(" `") != "SELF"
    ]
    got = con.execute(
        "select median_minutes, incidents_measured from marts.mart_response_times "
        "where period_grain = 'all' and team = 'crt'"
    ).fetchone()
    assert got[1] == len(minutes)
    assert got[0] == pytest.approx(statistics.median(minutes), abs=1e-9)


def test_program_side_metrics_are_not_recorded_never_zero(published):
    con = published["con"]
    rows = con.execute(
        "select metric, value, value_note from marts.mart_kpis where period_grain = 'all' "
        "and metric in ('police_backup_rate', 'transport_share', 'encounter_link_rate', 'arrests_per_100')"
    ).fetchall()
    assert {m for m, _, _ in rows} == {
        "police_backup_rate",
        "transport_share",
        "encounter_link_rate",
        "arrests_per_100",
    }
    assert all(v is None and n.startswith("not recorded: ") for _, v, n in rows), rows
    assert scalar(con, "select max(risk_screen_source) from marts.mart_eligibility") == "not_available"
    # no shift roster: "no unit available" is unknown, never a share of 0
    assert con.execute(
        "select distinct share_of_eligible from marts.mart_forgone_by_reason where reason = 'no_unit_available'"
    ).fetchall() == [(None,)]


def test_the_2025_slice_shows_the_program_ending_on_april_7(tmp_path_factory):
    con = publish(2025, tmp_path_factory)["con"]
    last_served = scalar(
        con,
        "select max(period_start) from marts.mart_incident_volume "
        "where period_grain = 'day' and served_by_team = 'crt'",
    )
    assert last_served == dt.date(2025, 4, 7)
    # after the last day of service, every eligible incident police took is forgone as outside hours
    after = con.execute(
        "select reason, sum(forgone_incidents) from marts.mart_forgone_by_reason "
        "where period_grain = 'day' and period_start > date '2025-04-07' and coverage_view = 'current' "
        "group by reason having sum(forgone_incidents) > 0"
    ).fetchall()
    assert [r for r, _ in after] == ["outside_hours"]
