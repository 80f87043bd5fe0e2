"""The marts reproduce the demo generator's planted truth: exactly for counts, to 4 decimals for rates.

Two different seeds, each an eight-week city spanning the pilot-to-citywide change and a DST night.
The truth comes from the simulation's own decisions (orchestration/demo/truth.py), not from the data."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.demo.truth import REASONS
from tests.conftest import build_warehouse


@pytest.fixture(scope="module", params=[7, 23], ids=["seed7", "seed23"])
def city(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"marts_seed{request.param}")
    cfg = DemoConfig(seed=request.param, start=dt.date(2023, 10, 9), days=56)
    generate(cfg, tmp / "landing", tmp / "truth.json", progress=lambda m: None)
    build_warehouse(tmp / "landing", tmp / "warehouse.duckdb", tmp)
    con = duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True)
    yield con, json.loads((tmp / "truth.json").read_text())
    con.close()


def one(con, sql):
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row


def approx(x):
    return pytest.approx(x, abs=5e-5) if x is not None else None


def test_eligibility_funnel(city):
    con, t = city
    e = t["eligibility"]
    got = one(con, """select incidents, calltype_eligible_incidents, screen_eligible_incidents, screen_failed_incidents,
        not_triaged_incidents, calltype_eligible_not_triaged_incidents, eligible_incidents, eligible_in_service_area,
        eligible_in_service_hours, served_incidents, served_eligible_incidents, forgone_incidents, share_of_eligible_served
        from marts.mart_eligibility where period_grain = 'all'""")
    assert got[:12] == (t["volume"]["incidents"], e["calltype_eligible"], e["screen_eligible"], e["screen_failed"],
                        e["not_triaged"], e["calltype_eligible_not_triaged"], e["program_eligible"],
                        e["eligible_in_service_area"], e["eligible_in_service_hours"], t["served"]["served_incidents"],
                        t["served"]["served_eligible"], t["forgone"]["total"])
    assert got[12] == approx(t["served"]["share_of_eligible_served"]["value"])


def test_monthly_figures(city):
    con, t = city
    rows = con.execute("""select strftime(period_start, '%Y-%m'), incidents, eligible_incidents, served_eligible_incidents,
        forgone_incidents from marts.mart_eligibility where period_grain = 'month' order by 1""").fetchall()
    assert {r[0]: dict(incidents=r[1], program_eligible=r[2], served_eligible=r[3], forgone=r[4]) for r in rows} == t["by_month"]


def test_volume_by_origin(city):
    con, t = city
    rows = con.execute("select call_origin, sum(incidents) from marts.mart_incident_volume where period_grain = 'all' group by 1")
    assert dict(rows.fetchall()) == t["volume"]["by_origin"]
    assert one(con, "select sum(calls) from marts.mart_incident_volume where period_grain = 'all'")[0] == t["volume"]["calls"]


def test_forgone_by_reason_weekday_hour_and_beat(city):
    con, t = city
    f = t["forgone"]
    current = dict(con.execute("select reason, forgone_incidents from marts.mart_forgone_by_reason "
                               "where period_grain = 'all' and coverage_view = 'current'").fetchall())
    assert current == f["by_reason"]
    unconstrained = dict(con.execute("select reason, forgone_incidents from marts.mart_forgone_by_reason "
                                     "where period_grain = 'all' and coverage_view = 'unconstrained'").fetchall())
    assert unconstrained == {r: f["unconstrained_by_reason"][r] for r in REASONS if r not in ("outside_hours", "outside_area")}
    cells = con.execute("select iso_day_of_week, local_hour, forgone_incidents from marts.mart_forgone_by_weekday_hour "
                        "where period_grain = 'all' and forgone_incidents > 0").fetchall()
    assert {f"{d}-{h:02d}": n for d, h, n in cells} == f["by_dow_hour"]
    beats = con.execute("select beat, forgone_incidents from marts.mart_forgone_by_beat "
                        "where period_grain = 'all' and forgone_incidents > 0").fetchall()
    assert dict(beats) == f["by_beat"]


def test_response_times(city):
    con, t = city
    for responder, truth in t["response_time_minutes"].items():
        n, excluded, mean, median, p90 = one(con, f"""select incidents_measured, excluded_no_arrival, mean_minutes,
            median_minutes, p90_minutes from marts.mart_response_times where period_grain = 'all' and team = '{responder}'""")
        assert (n, excluded) == (truth["n"], truth["excluded_no_arrival"]), responder
        assert (mean, median, p90) == (approx(truth["mean"]), approx(truth["median"]), approx(truth["p90"])), responder


def test_outcomes(city):
    con, t = city
    o = t["outcomes"]
    rows = con.execute("""select primary_outcome, incidents, share_with_unable_to_locate, share_without_unable_to_locate
        from marts.mart_outcomes where period_grain = 'all'""").fetchall()
    assert {r[0]: r[1] for r in rows} == o["counts"]
    for outcome, _, with_utl, without_utl in rows:
        assert with_utl == approx(o["share_with_unable_to_locate"][outcome]["value"])
        if outcome != "unable_to_locate":
            assert without_utl == approx(o["share_without_unable_to_locate"][outcome]["value"])


def test_encounters_safety_backup(city):
    con, t = city
    assert one(con, "select encounters, linked_encounters from marts.mart_encounter_links where period_grain = 'all'") == (
        t["encounters"]["total"], t["encounters"]["linked_to_cad"])
    assert one(con, "select encounters_felt_safe, encounters_answered from marts.mart_responder_safety where period_grain = 'all'") == (
        t["safety"]["numerator"], t["safety"]["denominator"])
    b = t["backup"]
    assert one(con, """select in_person_encounters, police_backup_requests, ems_requests, concurrent_police_dispatches
        from marts.mart_backup_requests where period_grain = 'all'""") == (
        b["in_person_encounters"], b["police_backup_requests"], b["ems_requests"], b["served_911_with_concurrent_police"])
    # phone-resolved incidents never have a team on scene: not in the concurrent dispatch rate's denominator
    assert one(con, """select served_911_field_incidents, concurrent_police_dispatch_rate
        from marts.mart_backup_requests where period_grain = 'all'""") == (
        b["served_911_field"], approx(b["concurrent_police_dispatch_rate"]["value"]))


def test_referrals_transports_follow_ups(city):
    con, t = city
    refs = dict(con.execute("select referral_type, incidents_with_referral from marts.mart_referrals where period_grain = 'all'").fetchall())
    assert refs.pop("any") == t["referrals"]["served_with_referral"]["numerator"]
    assert refs == t["referrals"]["incidents_by_type"]
    trans = dict(con.execute("select destination_type, incidents_with_transport from marts.mart_transports where period_grain = 'all'").fetchall())
    assert trans.pop("any") == t["transports"]["served_with_transport"]["numerator"]
    assert trans == t["transports"]["incidents_by_destination"]
    fu = t["follow_ups"]
    assert one(con, """select served_incidents, incidents_followed_up, incidents_followed_up_within_48h
        from marts.mart_follow_ups where period_grain = 'all'""") == (
        fu["linked_served_incidents"], fu["served_with_follow_up"], fu["served_with_follow_up_within_48h"])


def test_comparative_arrests_and_transports(city):
    con, t = city
    for group, truth in t["comparative"].items():
        row = one(con, f"""select incidents, arrests, transported_incidents, arrests_per_100, transports_per_100,
            standardized_arrests_per_100, standardized_transports_per_100
            from marts.mart_comparative_outcomes where period_grain = 'all' and comparison_group = '{group}'""")
        assert row[:3] == (truth["incidents"], truth["arrests"], truth["transported_incidents"]), group
        assert row[3:] == (approx(truth["arrests_per_100"]), approx(truth["transports_per_100"]),
                           approx(truth["standardized_arrests_per_100"]), approx(truth["standardized_transports_per_100"]))


def test_police_time_saved(city):
    con, t = city
    p = t["police_time"]
    row = one(con, """select served_eligible_911_incidents, police_handled_incidents, police_assignments,
        avg_police_units_per_incident, avg_police_hours_per_unit, displacement_factor, police_hours_saved, units_source
        from marts.mart_police_time_saved where period_grain = 'all'""")
    assert row[:3] == (p["served_eligible_911"], p["police_handled_incidents"], p["police_assignments"])
    assert row[3:7] == (approx(p["avg_police_units_per_incident"]), approx(p["avg_police_hours_per_unit"]),
                        approx(p["displacement_factor"]), pytest.approx(p["police_hours_saved"], rel=1e-9))
    assert row[7] == "data"


def test_familiar_neighbors(city):
    con, t = city
    fn = t["familiar_neighbors"]
    rows = con.execute("select min_encounters, people, encounters, all_encounters, window_end from marts.mart_familiar_neighbors").fetchall()
    assert {str(m): (p, e) for m, p, e, _, _ in rows} == {k: (v["people"], v["encounters"]) for k, v in fn["thresholds"].items()}
    assert {r[3] for r in rows} == {fn["encounters_with_person"]}
    assert {r[4].isoformat() for r in rows} == {fn["window_end"]}


def test_kpi_table_carries_the_headline_share(city):
    con, t = city
    num, den, value = one(con, """select numerator, denominator, value from marts.mart_kpis
        where metric = 'share_of_eligible_served' and period_grain = 'all'""")
    share = t["served"]["share_of_eligible_served"]
    assert (num, den) == (share["numerator"], share["denominator"]) and value == approx(share["value"])


def test_kpi_tables_per_grain_count_each_incident_once(city):
    """Summing one metric of a per-grain KPI table gives the true total; mart_kpis, which holds every
    grain at once, gives it five times (why BI models read the per-grain tables)."""
    con, t = city
    incidents = t["volume"]["incidents"]
    for table in ("mart_kpis_daily", "mart_kpis_weekly", "mart_kpis_monthly", "mart_kpis_quarterly", "mart_kpis_all_time"):
        assert one(con, f"select sum(value) from marts.{table} where metric = 'incidents'") == (incidents,), table
    assert one(con, "select sum(value) from marts.mart_kpis where metric = 'incidents'") == (5 * incidents,)
    assert one(con, """select value, unit, value_format, label, label_es from marts.mart_kpis_all_time
        where metric = 'share_of_eligible_served'""") == (
        approx(t["served"]["share_of_eligible_served"]["value"]), "share", ".1%",
        "Share of eligible incidents served", "Proporción de incidentes elegibles atendidos")
    columns = {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where table_name = 'mart_kpis_all_time'").fetchall()}
    assert "period_start" not in columns and "first_local_date" in columns  # no place on a time axis


def test_quarterly_public_marts_publish_the_truth_or_withhold_it(city):
    """The eight weeks fall in one quarter (2023-Q4): what the quarterly public marts publish is the
    planted truth of the whole history, and what they withhold is a small count or would give back a
    month the monthly marts withheld."""
    con, t = city
    served, forgone = t["served"]["served_eligible"], t["forgone"]["total"]
    rows = dict((s, (n, hidden)) for s, n, hidden in con.execute(
        "select status, incidents, is_suppressed from public_marts.pub_eligible_incidents_quarterly "
        "where period_start = date '2023-10-01'").fetchall())
    assert rows == {"served": (served, False), "forgone": (forgone, False)}  # hundreds each: nothing withheld
    b = t["backup"]
    requests, base, rate, hidden = one(con, """select requests, base_count, rate, is_suppressed
        from public_marts.pub_backup_requests_quarterly where request_type = 'concurrent_police_dispatch'""")
    few = lambda n: 1 <= n <= 10  # noqa: E731
    if few(b["served_911_with_concurrent_police"]) or few(b["served_911_field"] - b["served_911_with_concurrent_police"]):
        assert hidden and requests is None
    else:
        monthly = con.execute("""select requests, base_count from public_marts.pub_backup_requests_monthly
            where request_type = 'concurrent_police_dispatch'""").fetchall()
        withheld = b["served_911_with_concurrent_police"] - sum(r or 0 for r, _ in monthly)
        if few(withheld):
            assert hidden and requests is None
        else:
            assert (requests, base, rate, hidden) == (
                b["served_911_with_concurrent_police"], b["served_911_field"],
                approx(b["concurrent_police_dispatch_rate"]["value"]), False)
    # outcomes: a quarter never gives back a month's withheld count
    for outcome, quarter in con.execute(
            "select primary_outcome, incidents from public_marts.pub_outcomes_quarterly where not is_suppressed").fetchall():
        months = [n for (n,) in con.execute(
            "select incidents from public_marts.pub_outcomes_monthly where primary_outcome = ?", [outcome]).fetchall()]
        assert not few(quarter - sum(n or 0 for n in months)), outcome


def test_demographics_of_the_people_served(city):
    """Each person with an encounter counts once, with the age band, gender and race/ethnicity of the
    record version staging keeps (the simulation's own people, banded by the same rule)."""
    con, t = city
    rows = con.execute("""select dimension, category, people from marts.mart_demographics
        where period_grain = 'all' order by 1, 2""").fetchall()
    got = {}
    for dimension, category, people in rows:
        got.setdefault(dimension, {})[category] = people
    assert got == t["demographics"]
    people = sum(t["demographics"]["gender"].values())
    assert people > 100 and all(sum(d.values()) == people for d in t["demographics"].values())


def test_forgone_reasons_within_weekday_hour_and_beat(city):
    con, t = city
    f = t["forgone"]
    by_slot, by_beat = {}, {}
    for dow, hour, reason, n in con.execute("""select iso_day_of_week, local_hour, reason, forgone_incidents
            from marts.mart_forgone_by_reason_weekday_hour where period_grain = 'all'""").fetchall():
        by_slot.setdefault(f"{dow}-{hour:02d}", {})[reason] = n
    for beat, reason, n in con.execute("""select beat, reason, forgone_incidents
            from marts.mart_forgone_by_reason_beat where period_grain = 'all'""").fetchall():
        by_beat.setdefault(beat, {})[reason] = n
    assert by_slot == f["reason_by_dow_hour"] and by_beat == f["reason_by_beat"]
    assert len({r for reasons in by_beat.values() for r in reasons}) >= 3  # several reasons, not one


def test_backup_request_reasons(city):
    con, t = city
    got = {"police_backup": {}, "ems": {}}
    for kind, reason, n in con.execute("""select request_type, reason, requests from marts.mart_backup_reasons
            where period_grain = 'all'""").fetchall():
        got[kind][reason] = n
    assert got == t["backup"]["reasons"]
    assert sum(got["ems"].values()) == t["backup"]["ems_requests"] > 0


def test_repeat_contacts_at_the_same_place(city):
    """Another 911 incident at the same location key within 30 and 90 days, after the served and the
    police-handled eligible incidents; incidents whose window runs past the data are not judged."""
    con, t = city
    got = {}
    for group, days, observed, repeats, pending in con.execute("""select comparison_group, window_days,
            incidents_observed, incidents_with_repeat, incidents_not_yet_observable
            from marts.mart_repeat_contacts where period_grain = 'all'""").fetchall():
        got.setdefault(group, {})[str(days)] = dict(
            incidents_observed=observed, incidents_with_repeat=repeats, not_yet_observable=pending)
    assert got == t["repeat_contacts"]
    assert got["served"]["30"]["incidents_with_repeat"] > 0 and got["served"]["90"]["not_yet_observable"] > 0


def test_data_quality_indicators(city):
    """Records late into case management (closed more than 24 hours after the encounter ended), the link
    rate and landed rows quarantined, each as numerator and denominator."""
    con, t = city
    got = {
        indicator: (numerator, denominator)
        for indicator, numerator, denominator in con.execute(
            "select indicator, numerator, denominator from marts.mart_data_quality where period_grain = 'all'"
        ).fetchall()
    }
    e = t["encounters"]
    assert got["encounters_entered_late"] == (e["entered_late"], e["total"]) and 0 < e["entered_late"] < e["total"]
    assert got["encounters_linked_to_cad"] == (e["linked_to_cad"], e["total"])
    assert got["rows_quarantined"] == (0, t["landing"]["rows_written"])
    # every demo unit's clear time reaches the last extract (a case stays open at most 30 hours)
    for team in ("program", "police"):
        numerator, denominator = got[f"{team}_assignments_missing_a_clear_time"]
        assert numerator == 0 < denominator


def test_repeat_contacts_of_people(city):
    """People the program served on a 911 incident, judged from their first one, and those it served again
    on another 911 incident within 30 and 90 days; people whose window runs past the data are not judged."""
    con, t = city
    got = {
        str(days): dict(
            people_served=served, people_observed=observed, people_with_repeat=repeats, not_yet_observable=pending
        )
        for days, served, observed, repeats, pending in con.execute("""select window_days, people_served,
            people_observed, people_with_repeat, people_not_yet_observable
            from marts.mart_repeat_contacts_people where period_grain = 'all'""").fetchall()
    }
    assert got == t["repeat_contacts_people"]
    assert got["30"]["people_with_repeat"] > 0 and got["90"]["not_yet_observable"] > 0

