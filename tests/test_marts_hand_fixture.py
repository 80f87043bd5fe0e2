"""A day small enough to work out by hand, run through landing and the real dbt build.

Monday 2023-10-02, pilot era: the program works weekdays 07:00-19:00 in districts 1-2 (beats D1xx,
D2xx). One CRT unit is on shift. Times are local (EDT, -04:00).

  H1 09:00 MENTAL   D101 screen ok   CRT1 sent 09:01, arrives 09:09, clears 10:30        -> served, 8 min
  H2 09:30 TRESPASS D102 screen ok   CRT1 busy -> police P1 (09:35-10:35), P2 (09:36-10:06) -> no_unit_available
  H3 20:00 WELFARE  D101 screen ok   after hours -> police P3 (20:05, arrives 20:20, clears 21:05) -> outside_hours
  H4 11:00 INTOX    D301 screen ok   outside the pilot area -> police P4 (11:02-11:32), EMS transports -> outside_area
  H5 11:30 THEFT    D101             not on the list
  H6 12:00 MENTAL   D101 weapon      screen failed
  H7 12:30 WELFARE  D101 no screen   not triaged
  H8 13:00 DISTVERB D101 screen ok   CRT1 declines (13:01-13:03) -> police P5 (13:05-13:35)  -> declined_by_team
  H9 14:00 MENTAL   D102 screen ok   CRT1 sent 14:01, arrival not marked, clears 15:00     -> served, excluded
Encounters: E1 (H1, person P1, referred, felt safe, housing referral, follow-up 24 h later),
E2 (H9, unable to locate, felt safe), E3 (no CAD number, outreach, P1 again, did not feel safe).
One arrest on H2. H1 has two calls.
"""

from __future__ import annotations

import csv

import duckdb
import pytest

from orchestration.contract import load_contract
from tests.conftest import build_warehouse

DAY = "2023-10-02"


def ts(hhmm: str, day: str = DAY) -> str:
    return f"{day}T{hhmm}:00-04:00"


INCIDENTS = [
    # number, time, type, beat, weapon, violence, medical
    ("H1", "09:00", "MENTAL", "D101", "N", "N", "N"),
    ("H2", "09:30", "TRESPASS", "D102", "N", "N", "N"),
    ("H3", "20:00", "WELFARE", "D101", "N", "N", "N"),
    ("H4", "11:00", "INTOX", "D301", "N", "N", "N"),
    ("H5", "11:30", "THEFT", "D101", "N", "N", "N"),
    ("H6", "12:00", "MENTAL", "D101", "Y", "N", "N"),
    ("H7", "12:30", "WELFARE", "D101", "", "", ""),
    ("H8", "13:00", "DISTVERB", "D101", "N", "N", "N"),
    ("H9", "14:00", "MENTAL", "D102", "N", "N", "N"),
]
ASSIGNMENTS = [
    # id, incident, unit, type, dispatched, arrived, transported, cleared, disposition
    ("A1", "H1", "CRT1", "crt", "09:01", "09:09", "", "10:30", "completed"),
    ("A2", "H2", "P1", "police", "09:35", "09:45", "", "10:35", "completed"),
    ("A3", "H2", "P2", "police", "09:36", "09:50", "", "10:06", "completed"),
    ("A4", "H3", "P3", "police", "20:05", "20:20", "", "21:05", "completed"),
    ("A5", "H4", "P4", "police", "11:02", "11:14", "", "11:32", "completed"),
    ("A6", "H4", "M1", "ems", "11:05", "11:15", "11:25", "11:45", "completed"),
    ("A7", "H5", "P6", "police", "11:40", "11:50", "", "12:20", "completed"),
    ("A8", "H6", "P7", "police", "12:02", "12:10", "", "12:40", "completed"),
    ("A9", "H7", "P8", "police", "12:40", "12:50", "", "13:10", "completed"),
    ("A10", "H8", "CRT1", "crt", "13:01", "", "", "13:03", "declined"),
    ("A11", "H8", "P5", "police", "13:05", "13:15", "", "13:35", "completed"),
    ("A12", "H9", "CRT1", "crt", "14:01", "", "", "15:00", "completed"),
]


def write(path, extract, rows):
    cols = load_contract().extracts[extract].column_names
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    d = tmp / "landing" / DAY
    write(d / "cad_incidents_20231002.csv", "cad_incidents", [
        dict(incident_number=n, received_at=ts(t), call_origin="911_dispatch", initial_call_type=ct, final_call_type=ct,
             priority="3", beat=beat, weapon_involved=w, violence_in_progress=v, medical_need=m,
             disposition_code="ADVISED", closed_at=ts("23:00"))
        for n, t, ct, beat, w, v, m in INCIDENTS])
    calls = [dict(call_id=f"C{n}", incident_number=n, call_received_at=ts(t), call_source="911") for n, t, *_ in INCIDENTS]
    calls.append(dict(call_id="C_H1_again", incident_number="H1", call_received_at=ts("09:04"), call_source="911"))
    write(d / "cad_calls_20231002.csv", "cad_calls", calls)
    write(d / "cad_unit_assignments_20231002.csv", "cad_unit_assignments", [
        dict(assignment_id=a, incident_number=i, unit_id=u, unit_type=ut, dispatched_at=ts(dp), en_route_at=ts(dp),
             arrived_at=ts(ar) if ar else "", transported_at=ts(tr) if tr else "", cleared_at=ts(cl), unit_disposition=disp)
        for a, i, u, ut, dp, ar, tr, cl, disp in ASSIGNMENTS])
    write(d / "program_shifts_20231002.csv", "program_shifts", [
        dict(shift_id="S1", unit_id="CRT1", team_type="crt", shift_start=ts("07:00"), shift_end=ts("19:00"))])
    write(d / "cm_encounters_20231002.csv", "cm_encounters", [
        dict(encounter_id="E1", incident_number="H1", person_id="P1", team_type="crt", call_origin="911_dispatch",
             started_at=ts("09:09"), ended_at=ts("10:30"), primary_outcome="referred", responder_felt_safe="true",
             updated_at=ts("12:00")),
        dict(encounter_id="E2", incident_number="H9", team_type="crt", call_origin="911_dispatch",
             started_at=ts("14:30"), ended_at=ts("15:00"), primary_outcome="unable_to_locate", responder_felt_safe="true",
             updated_at=ts("16:00")),
        dict(encounter_id="E3", person_id="P1", team_type="crt", call_origin="self_initiated", started_at=ts("16:00"),
             ended_at=ts("16:30"), primary_outcome="resolved_on_scene", responder_felt_safe="false", updated_at=ts("17:00")),
    ])
    write(d / "cm_people_20231002.csv", "cm_people", [
        dict(person_id="P1", first_name="Test", last_name="Person", birth_date="1980-05-01", updated_at=ts("16:00"))])
    write(d / "cm_referrals_20231002.csv", "cm_referrals", [
        dict(referral_id="F1", encounter_id="E1", referral_type="housing_shelter", referred_at=ts("10:30"))])
    write(d / "cm_transports_20231002.csv", "cm_transports", [])
    write(d / "cm_follow_ups_20231002.csv", "cm_follow_ups", [
        dict(follow_up_id="U1", encounter_id="E1", followed_up_at=ts("10:30", "2023-10-03"), team_type="cn", contact_made="true")])
    write(d / "rms_arrests_20231002.csv", "rms_arrests", [
        dict(arrest_id="R1", incident_number="H2", arrested_at=ts("10:00"), charge_level="misdemeanor")])

    build_warehouse(tmp / "landing", tmp / "warehouse.duckdb", tmp)
    c = duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True)
    yield c
    c.close()


def all_period(con, sql):
    return con.execute(sql + (" and " if " where " in sql else " where ") + "period_grain = 'all'").fetchall()


def test_eligibility_funnel(con):
    (row,) = all_period(con, """select incidents, calltype_eligible_incidents, screen_failed_incidents,
        calltype_eligible_not_triaged_incidents, eligible_incidents, served_eligible_incidents, forgone_incidents,
        share_of_eligible_served from marts.mart_eligibility""")
    # 9 incidents; 8 on the list (not THEFT); H6 fails the screen; H7 untriaged; 6 eligible; H1, H9 served
    assert row[:7] == (9, 8, 1, 1, 6, 2, 4)
    assert row[7] == pytest.approx(2 / 6)


def test_calls_are_not_incidents(con):
    assert all_period(con, "select sum(incidents), sum(calls) from marts.mart_incident_volume") == [(9, 10)]


def test_forgone_reasons(con):
    current = dict(all_period(con, "select reason, forgone_incidents from marts.mart_forgone_by_reason where coverage_view = 'current'"))
    assert current == {"outside_hours": 1, "outside_area": 1, "no_unit_available": 1, "declined_by_team": 1,
                       "cancelled": 0, "unknown": 0}
    # without the hours and area tests: H3 at 20:00 has nobody on shift; H4 at 11:00 had CRT1 free
    unconstrained = dict(all_period(con, "select reason, forgone_incidents from marts.mart_forgone_by_reason where coverage_view = 'unconstrained'"))
    assert unconstrained == {"no_unit_available": 2, "declined_by_team": 1, "cancelled": 0, "unknown": 1}


def test_response_times(con):
    rows = {r[0]: r[1:] for r in all_period(con, """select team, incidents_measured, excluded_no_arrival,
        mean_minutes, median_minutes, p90_minutes from marts.mart_response_times""")}
    assert rows["crt"] == (1, 1, 8.0, 8.0, 8.0)  # H1: 09:01 -> 09:09; H9 has no arrival: excluded, counted
    # police on H2, H3, H4, H8: 10, 15, 12, 10 minutes; p90 = 12 + 0.7 x (15 - 12)
    n, excluded, mean, median, p90 = rows["police_on_eligible"]
    assert (n, excluded) == (4, 0)
    assert (mean, median, p90) == (pytest.approx(11.75), pytest.approx(11.0), pytest.approx(14.1))


def test_police_time_saved(con):
    (row,) = all_period(con, """select served_eligible_911_incidents, police_handled_incidents, police_assignments,
        avg_police_units_per_incident, avg_police_hours_per_unit, police_hours_saved from marts.mart_police_time_saved""")
    # 5 police units on 4 incidents; hours 1.0 + 0.5 + 1.0 + 0.5 + 0.5 = 3.5 over 5 units; 2 x 1.25 x 0.7 x 1.0
    assert row[:3] == (2, 4, 5)
    assert row[3:] == (pytest.approx(1.25), pytest.approx(0.7), pytest.approx(1.75))


def test_comparative_groups(con):
    rows = {r[0]: r[1:] for r in all_period(con, """select comparison_group, incidents, arrests, arrests_per_100,
        transports_per_100, standardized_arrests_per_100 from marts.mart_comparative_outcomes""")}
    assert rows["served"] == (2, 0, 0.0, 0.0, None)  # no call type x hour band holds both groups: no standard mix
    assert rows["police_handled"] == (4, 1, 25.0, 25.0, None)


def test_outcomes_safety_links_referrals_follow_ups(con):
    outcomes = {r[0]: r[1:] for r in all_period(con, """select primary_outcome, incidents, share_with_unable_to_locate,
        share_without_unable_to_locate from marts.mart_outcomes""")}
    assert outcomes == {"referred": (1, 0.5, 1.0), "unable_to_locate": (1, 0.5, None)}
    assert all_period(con, "select encounters_felt_safe, encounters_answered from marts.mart_responder_safety") == [(2, 3)]
    assert all_period(con, "select linked_encounters, encounters from marts.mart_encounter_links") == [(2, 3)]
    assert dict(all_period(con, "select referral_type, incidents_with_referral from marts.mart_referrals")) == {
        "any": 1, "housing_shelter": 1}
    assert all_period(con, """select served_incidents, incidents_followed_up, incidents_followed_up_within_48h
        from marts.mart_follow_ups""") == [(2, 1, 1)]


def test_familiar_neighbors_use_only_the_pseudonymous_key(con):
    rows = con.execute("select min_encounters, people, all_people, all_encounters from marts.mart_familiar_neighbors").fetchall()
    assert {r[0]: r[1:] for r in rows} == {5: (0, 1, 2), 10: (0, 1, 2), 20: (0, 1, 2), 40: (0, 1, 2)}
    keys = con.execute("select distinct person_key from marts.fct_encounters where person_key is not null").fetchall()
    assert len(keys) == 1 and keys[0][0] != "P1" and len(keys[0][0]) == 64


def test_forgone_by_beat_and_staffing_projection(con):
    beats = {r[0]: r[1:] for r in all_period(con, """select beat, forgone_incidents, forgone_outside_area
        from marts.mart_forgone_by_beat""")}
    assert beats == {"D101": (2, 0), "D102": (1, 0), "D301": (1, 1)}  # H3, H8 | H2 | H4 (pilot area is D1xx-D2xx)
    cells = {(d, h): rest for d, h, *rest in con.execute("""select iso_day_of_week, local_hour, forgone_incidents,
        weeks_observed, avg_program_hours_per_incident, unit_hours_per_week_needed
        from marts.mart_staffing_projection""").fetchall()}
    assert len(cells) == 168 and sum(c[0] for c in cells.values()) == 4
    # one day of data = 1/7 week; served field time: H1 89 min, H9 59 min (H8's decline does not count)
    forgone, weeks, hours, needed = cells[(1, 9)]
    assert (forgone, weeks, hours) == (1, pytest.approx(1 / 7), pytest.approx(74 / 60))
    assert needed == pytest.approx(7 * 0.5 * 74 / 60)
    assert {k for k, c in cells.items() if c[0]} == {(1, 9), (1, 11), (1, 13), (1, 20)}
