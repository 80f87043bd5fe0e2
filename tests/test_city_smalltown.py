"""A city by configuration alone, from exports shaped like two real ones the project had never seen:
a police call log with clock-only times beside MM/DD/YY dates, and a crisis team's dispatch log with no
CAD incident number (tests/fixtures/cities/smalltown, tests/fixtures/exports). Every expected value
below is worked out by hand from the two small files."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from orchestration.land.loader import land, warehouse_summary
from orchestration.land.mapping import Mapping, map_export, preview
from orchestration.land.validate import RowRules
from orchestration.settings import load_settings
from tests.conftest import REPO, build_warehouse

CITY = REPO / "tests" / "fixtures" / "cities" / "smalltown"
EXPORTS = REPO / "tests" / "fixtures" / "exports"
POLICE, TEAM = EXPORTS / "smalltown_police_log.csv", EXPORTS / "smalltown_crisis_team_log.csv"
DROP_DATE = dt.date(2021, 11, 8)  # the extract date: after every time in the files


def mapping(name):
    return Mapping.load(name, search=[CITY / "mappings"])


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smalltown")
    drop = tmp / "landing" / DROP_DATE.isoformat()
    reports = {
        name: map_export(mapping(name), export, drop, DROP_DATE)
        for name, export in (("smalltown_police_log", POLICE), ("smalltown_crisis_team", TEAM))
    }
    build_warehouse(tmp / "landing", tmp / "warehouse.duckdb", tmp, city_tz="America/New_York", city_dir=CITY)
    con = duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True)
    yield dict(tmp=tmp, drop=drop, reports=reports, con=con)
    con.close()


def utc(con, table, key_column, key, column):
    return con.execute(f"select {column} from raw.{table} where {key_column} = ?", [key]).fetchone()[0]


def test_a_two_digit_year_is_read_by_the_pivot_and_a_misread_century_is_quarantined(city):
    con = city["con"]
    # 09/14/21 08:10 EDT (pivot 70: 21 -> 2021) = 12:10 UTC; never year 21 AD
    assert utc(con, "cad_incidents", "incident_number", "21-0001", "received_at") == dt.datetime(2021, 9, 14, 12, 10)
    # 09/16/05 is 2005: before the city's plausible window, quarantined with a reason that says so
    reason = con.execute("select reason from land.quarantine where record like '%21-0009%'").fetchone()[0]
    assert "2005-09-16 18:00 UTC is outside the plausible window (2020-01-01" in reason
    assert "2005" not in warehouse_summary(city["tmp"] / "warehouse.duckdb")  # date ranges: nothing from 2005 landed
    assert "2021-03-14 .. 2021-11-07" in warehouse_summary(city["tmp"] / "warehouse.duckdb")


def test_clock_times_roll_over_midnight_and_cross_both_dst_changes(city):
    con = city["con"]
    arrived = lambda n: utc(con, "cad_unit_assignments", "incident_number", n, "arrived_at")  # noqa: E731
    dispatched = lambda n: utc(con, "cad_unit_assignments", "incident_number", n, "dispatched_at")  # noqa: E731
    assert arrived("21-0002") == dt.datetime(2021, 9, 15, 4, 7)  # 0:07 after a 23:50 call: the next day, EDT
    assert arrived("21-0003") - dispatched("21-0003") == dt.timedelta(minutes=7)  # 01:58 EST -> 03:05 EDT
    # 2021-11-07 01:20 happens twice; a local time in the repeated hour is read as standard time (documented)
    assert utc(con, "cad_incidents", "incident_number", "21-0004", "received_at") == dt.datetime(2021, 11, 7, 6, 20)


def test_zero_clock_is_null_only_where_configured_and_an_arrival_without_dispatch_is_kept(city):
    con = city["con"]
    assert utc(con, "cad_unit_assignments", "incident_number", "21-0006", "arrived_at") is None  # '0:00'
    row = con.execute(
        "select dispatched_at, arrived_at from raw.cad_unit_assignments where incident_number = '21-0005'"
    ).fetchone()
    assert row == (None, dt.datetime(2021, 9, 15, 14, 9))
    police = con.execute(
        "select incidents_measured, excluded_no_arrival, excluded_no_dispatch "
        "from marts.mart_response_times where period_grain = 'all' and team = 'police_on_eligible'"
    ).fetchone()
    # eligible incidents police handled: 21-0001 (measured, 8 min), 21-0004 (15 min), 21-0005 (no dispatch)
    assert police == (2, 0, 1)


def test_unit_lists_explode_into_rows_and_dispatchers_have_a_type(city):
    con = city["con"]
    units = con.execute(
        "select incident_number, unit_id, unit_type from raw.cad_unit_assignments order by all"
    ).fetchall()
    assert ("21-0001", "P12", "police") in units and ("21-0001", "P14", "police") in units
    assert ("21-0008", "DISP1", "dispatcher") in units and ("21-0008", "P14", "police") in units
    assert len(units) == 9  # 0001 x2, 0002, 0003, 0004, 0005, 0006, 0008 x2 (0007 filtered, 0009 no units)


def test_every_row_the_mapping_leaves_out_is_counted_with_its_reason(city):
    police = json.loads((city["drop"] / "_mapping_smalltown_police_log.json").read_text())
    assert police["rows_read"] == 10 and police["dropped_by_source_filter"] == 1
    incidents, units = police["outputs"]
    assert incidents["rows_written"] == 8
    assert incidents["dropped"] == {"folded into the first row of the same incident_number": 1}
    assert units["added_by_explode"] == 3  # 21-0001: +1; 21-0008 (sent twice): +1 each
    assert units["dropped"] == {"empty list in 'Units'": 1, "folded into the first row of the same assignment_id": 2}
    assert units["rows_written"] == 9


def test_the_same_export_maps_to_byte_identical_files(city, tmp_path):
    again = map_export(mapping("smalltown_police_log"), POLICE, tmp_path, DROP_DATE)
    for path in again.paths:
        assert path.read_bytes() == (city["drop"] / path.name).read_bytes()


def test_the_preview_shows_the_parsed_date_range_before_writing(tmp_path):
    text = preview(mapping("smalltown_police_log"), POLICE, "America/New_York")
    assert "== cad_incidents: 8 rows" in text
    assert "UTC 2005-09-16 18:00:00 .. 2021-11-07 06:20:00" in text  # the 2005 typo shows before anything lands
    assert " | (sensitive) | " in text  # the address column is masked in the first rows
    assert not any(tmp_path.iterdir())


def test_rules_in_any_case_match_and_the_priority_screen_decides(city):
    con = city["con"]
    rows = dict(con.execute("select incident_number, is_program_eligible from marts.fct_incidents").fetchall())
    # 'welfare check ' in the data and 'welfare check' in the rules match; priority 2 is screened out
    assert rows["21-0001"] and rows["21-0002"] and rows["21-0004"] and rows["21-0005"]
    assert not rows["21-0006"] and not rows["21-0008"]  # priority 2; TRESPASS is not on the list
    assert con.execute("select distinct risk_screen_source from marts.fct_incidents").fetchall() == [("priority",)]


def test_a_crisis_team_log_stays_honestly_unlinked_and_unrecorded_inputs_are_null(city):
    con = city["con"]
    assert con.execute(
        "select encounters, linked_encounters, link_rate from marts.mart_encounter_links where period_grain = 'all'"
    ).fetchone() == (4, 0, 0.0)
    assert con.execute(
        "select police_backup_rate, ems_request_rate from marts.mart_backup_requests where period_grain = 'all'"
    ).fetchone() == (None, None)
    assert con.execute("select share_felt_safe from marts.mart_responder_safety").fetchall() in ([], [(None,)] * 5)
    notes = dict(
        con.execute(
            "select metric, value_note from marts.mart_kpis where period_grain = 'all' "
            "and metric in ('police_backup_rate', 'transport_share', 'encounter_link_rate')"
        ).fetchall()
    )
    assert notes == {
        "police_backup_rate": "not recorded: cm_encounters.police_backup_requested_at",
        "transport_share": "not recorded: cm_transports",
        "encounter_link_rate": None,
    }
    # the encounter across midnight ends the next day
    assert utc(con, "cm_encounters", "encounter_id", "MCT-2", "ended_at") == dt.datetime(2021, 9, 15, 5, 5)


def test_a_typo_duration_is_quarantined_with_the_setting_that_governs_it(tmp_path):
    """A 10,091-minute arrival (a typo) is quarantined at landing, so it cannot move a published number."""
    cols = (
        "assignment_id,incident_number,unit_id,unit_type,dispatched_at,en_route_at,arrived_at,transported_at,"
        "cleared_at,unit_disposition"
    )
    drop = tmp_path / "landing" / "2024-01-10"
    drop.mkdir(parents=True)
    (drop / "cad_unit_assignments_20240110.csv").write_text(
        f"{cols}\nA1,I1,P1,police,2024-01-02T10:00:00-05:00,,2024-01-09T10:11:00-05:00,,2024-01-09T11:00:00-05:00,completed\n"
        f"A2,I1,P2,police,2024-01-02T10:00:00-05:00,,2024-01-02T10:09:00-05:00,,2024-01-02T10:40:00-05:00,completed\n"
    )
    settings = load_settings(city_dir=CITY)
    report = land(
        tmp_path / "landing",
        tmp_path / "w.duckdb",
        settings.city_tz,
        progress=lambda m: None,
        rules=RowRules.from_settings(settings),
    )
    assert (report.landed[0].rows_loaded, report.landed[0].rows_quarantined) == (1, 1)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    reason = con.execute("select reason from land.quarantine").fetchone()[0]
    assert reason.startswith(
        "arrived_at: arrived_at is 10091 minutes after dispatched_at, over the limit of 240 minutes "
        "(city.yml limits.max_dispatch_to_arrival_minutes)"
    )


def test_a_latin1_export_with_its_own_delimiter_maps_by_configuration(tmp_path):
    export = tmp_path / "export.txt"
    export.write_bytes("Nr|Eingang|Art\nA-1|2021-09-14 08:10:00|Sozialdienst Straße\n".encode("latin-1"))
    spec = tmp_path / "latin.yml"
    spec.write_text(
        """description: a latin-1, pipe-delimited export
city_tz: Europe/Berlin
source: {header: true, delimiter: "|", encoding: latin-1}
outputs:
  - extract: cad_incidents
    columns: {incident_number: Nr, received_at: Eingang, call_origin: "'911_dispatch'", initial_call_type: Art,
              final_call_type: , priority: , beat: , location_key: , address: , weapon_involved: ,
              violence_in_progress: , medical_need: , disposition_code: , closed_at: }
""",
        encoding="utf-8",
    )
    report = map_export(Mapping.load(spec), export, tmp_path / "drop", dt.date(2021, 9, 15))
    assert "A-1,2021-09-14 08:10:00,911_dispatch,Sozialdienst Straße" in report.paths[0].read_text(encoding="utf-8")


def test_a_new_city_folder_is_scaffolded_from_an_export_and_says_what_to_fill_in(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "newtown"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration",
            "city",
            "new",
            str(folder),
            "--export",
            str(POLICE),
            "--delimiter",
            ";",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "city.yml: name, program, time_zone" in out.stdout and "newtown_cad.yml" in out.stdout
    assert sorted(p.name for p in (folder / "rules").iterdir()) == [
        "call_types.csv",
        "eligible_call_types.csv",
        "operating_hours.csv",
        "police_time_parameters.csv",
        "service_area_beats.csv",
    ]
    template = (folder / "mappings" / "newtown_cad.yml").read_text()
    assert "CallNo, Date, TimeReceived" in template and "received_at:" in template
    # until the time zone is filled in, every command says so instead of failing later
    from orchestration.settings import SettingsError

    with pytest.raises(SettingsError, match="time_zone 'TODO/Zone' is not an IANA time zone"):
        load_settings(city_dir=folder)


def test_police_hours_per_unit_leave_out_a_unit_without_a_dispatch_time(city):
    """Eligible incidents police handled: 21-0001 (P12 and P14, 08:12-08:55, 43 min each), 21-0004 (P12,
    01:25-02:10 EST, 45 min) and 21-0005 (P14: no dispatch time, so no measurable hours). Hours per unit =
    (43 + 43 + 45) / 60 / 3 units with both times; units per incident = 4 units sent / 3 incidents."""
    hours, units, source = (
        city["con"]
        .execute(
            "select avg_police_hours_per_unit, avg_police_units_per_incident, hours_source "
            "from marts.mart_police_time_saved where period_grain = 'all'"
        )
        .fetchone()
    )
    assert hours == pytest.approx(131 / 60 / 3) and units == pytest.approx(4 / 3) and source == "data"
