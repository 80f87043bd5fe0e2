"""The three gates of the quality gate, in code and reviewed like code.

Each check names the asset it guards, the SQL that selects what it inspects (read-only, from the
warehouse; only the columns the suite needs), and its expectations. Thresholds come from the settings.
SQL here only selects and aligns data for inspection; metrics are computed in dbt.

- raw: timestamp order, code sets, value ranges, daily volume within a band for the day of week
- incidents: eligibility flags consistent, a reason on every forgone incident, unknown-reason share,
  CAD-case management link rate, missing arrival and clear times
- marts: shares within [0, 1], totals reconcile across marts, the KPI table agrees with the marts,
  no small cell leaks from the public marts
"""

from __future__ import annotations

from dataclasses import dataclass, field

import great_expectations.expectations as gxe
import yaml

from orchestration.contract import code_set
from orchestration.dbt import DBT_PROJECT_DIR
from orchestration.settings import Settings

NOT_SERVED_REASONS = ("outside_hours", "outside_area", "no_unit_available", "declined_by_team", "cancelled", "unknown")


@dataclass(frozen=True)
class GateCheck:
    name: str
    gate: str  # raw | incidents | marts
    asset: tuple[str, ...]  # asset key the check is attached to
    description: str
    sql: str
    expectations: list = field(default_factory=list)
    id_columns: tuple[str, ...] = ()  # selected by `sql`: name the offending rows in a failure message
    setting: str | None = None  # the settings field (threshold) that governs the check, named in failures


def _in_set(column: str, seed: str, **kw):
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(code_set(seed)), **kw)


def _ordered(a: str, b: str):
    """b >= a where both are present."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=b, column_B=a, or_equal=True,
                                                       ignore_row_if="either_value_is_missing")


PUBLIC_COUNTS = [  # (public mart, period column, count column)
    ("pub_incident_volume_monthly", "month", "incidents"),
    ("pub_eligible_incidents_monthly", "month", "incidents"),
    ("pub_forgone_by_reason_monthly", "month", "forgone_incidents"),
    ("pub_outcomes_monthly", "month", "incidents"),
    ("pub_forgone_by_beat_quarterly", "quarter", "forgone_incidents"),
]
MIN_CELL = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["public_min_cell_size"]


def _public_cells_sql() -> str:
    """Per public cell: its published count, and whether it is the only suppressed cell of a group that
    also publishes other cells (the group total minus those would reveal it). A group whose every cell
    is suppressed reveals nothing."""
    return " union all ".join(
        f"select '{t}' as public_mart, {p} as period, {c} as published_count, "
        f"sum(case when is_suppressed then 1 else 0 end) over (partition by {p}) = 1 "
        f"and count(*) filter (where not is_suppressed) over (partition by {p}) > 0 as lone_suppressed_cell "
        f"from public_marts.{t}" for t, p, c in PUBLIC_COUNTS)


def gate_checks(s: Settings) -> list[GateCheck]:
    tz = s.city_tz
    local_date = f"cast(timezone('{tz}', timezone('UTC', received_at)) as date)"
    return [
        # ------------------------------------------------------------------------------------ raw
        GateCheck(
            "unit_timestamps_in_order", "raw", ("raw", "cad_unit_assignments"),
            "Unit times run dispatched <= en route <= arrived <= cleared; codes are known; clear times are "
            "present. (Landing already quarantines each row out of order or beyond the city's duration limits.)",
            """select assignment_id, dispatched_at, en_route_at, arrived_at, cleared_at, unit_type, unit_disposition
               from raw.cad_unit_assignments""",
            [
                _ordered("dispatched_at", "en_route_at"),
                _ordered("en_route_at", "arrived_at"),
                _ordered("arrived_at", "cleared_at"),
                _ordered("dispatched_at", "cleared_at"),
                _in_set("unit_type", "unit_types"),
                _in_set("unit_disposition", "unit_dispositions"),
                gxe.ExpectColumnValuesToNotBeNull(column="cleared_at", mostly=1 - s.max_missing_clear_share),
            ],
            id_columns=("assignment_id",), setting="max_missing_clear_share",
        ),
        GateCheck(
            "incident_codes_and_ranges", "raw", ("raw", "cad_incidents"),
            "Incidents carry a known origin and a received time, and close after receipt. (Priority is each "
            "city's own scale, e.g. 0 in New Orleans: only the city's risk-screen rule reads it.)",
            "select incident_number, call_origin, received_at, closed_at from raw.cad_incidents",
            [
                _in_set("call_origin", "call_origins"),
                gxe.ExpectColumnValuesToNotBeNull(column="received_at"),
                _ordered("received_at", "closed_at"),
            ],
            id_columns=("incident_number",),
        ),
        GateCheck(
            "daily_volume_within_band", "raw", ("raw", "cad_incidents"),
            f"Each day's incidents are within ±{s.daily_volume_band:.0%} of the median for that day of the week "
            "(the latest day is left out: it may still be arriving).",
            f"""with days as (
                    select {local_date} as local_date, count(*) as incidents
                    from raw.cad_incidents group by 1),
                  typical as (
                    select isodow(local_date) as dow, median(incidents) as median_incidents from days group by 1)
                select d.local_date, d.incidents, d.incidents / t.median_incidents as ratio_to_weekday_median
                from days d join typical t on t.dow = isodow(d.local_date)
                where d.local_date < (select max(local_date) from days)""",
            [gxe.ExpectColumnValuesToBeBetween(column="ratio_to_weekday_median", min_value=1 - s.daily_volume_band,
                                               max_value=1 + s.daily_volume_band)],
            id_columns=("local_date",), setting="daily_volume_band",
        ),
        GateCheck(
            "encounter_codes_and_times", "raw", ("raw", "cm_encounters"),
            "Encounters name a program team and a known outcome, and end after they start.",
            "select encounter_id, team_type, primary_outcome, started_at, ended_at from raw.cm_encounters",
            [
                gxe.ExpectColumnValuesToBeInSet(column="team_type", value_set=["crt", "cor", "ccd", "cn"]),
                _in_set("primary_outcome", "outcome_codes"),
                _ordered("started_at", "ended_at"),
            ],
            id_columns=("encounter_id",),
        ),
        # ------------------------------------------------------------------------------------ incidents
        GateCheck(
            "eligibility_flags_consistent", "incidents", ("marts", "fct_incidents"),
            "Program-eligible means call type eligible and screen passed (call type alone where the program has "
            "no risk screen); not triaged means call type eligible with no screen answer; served incidents have "
            "no not-served reason.",
            """select incident_number,
                 is_program_eligible = (is_calltype_eligible and (risk_screen_source = 'not_available'
                                        or coalesce(is_screen_eligible, false))) as program_flag_consistent,
                 is_not_triaged = (is_calltype_eligible and is_screen_eligible is null
                                   and risk_screen_source <> 'not_available') as not_triaged_flag_consistent,
                 not (is_served and not_served_reason is not null) as served_without_reason
               from marts.fct_incidents""",
            [gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[True])
             for c in ("program_flag_consistent", "not_triaged_flag_consistent", "served_without_reason")],
            id_columns=("incident_number",),
        ),
        GateCheck(
            "forgone_reasons_complete", "incidents", ("marts", "fct_incidents"),
            f"Every eligible incident the program did not serve has a reason, and 'unknown' stays under "
            f"{s.max_unknown_reason_share:.0%} of them.",
            """select incident_number, not_served_reason from marts.fct_incidents
               where is_program_eligible and not is_served""",
            [
                gxe.ExpectColumnValuesToNotBeNull(column="not_served_reason"),
                gxe.ExpectColumnValuesToBeInSet(column="not_served_reason", value_set=list(NOT_SERVED_REASONS)),
                gxe.ExpectColumnValuesToNotBeInSet(column="not_served_reason", value_set=["unknown"],
                                                   mostly=1 - s.max_unknown_reason_share),
            ],
            id_columns=("incident_number",), setting="max_unknown_reason_share",
        ),
        GateCheck(
            "encounters_link_to_cad", "incidents", ("marts", "fct_encounters"),
            f"At least {s.min_link_rate:.0%} of case-management encounters carry a CAD incident number found in CAD.",
            "select encounter_id, is_linked from marts.fct_encounters",
            [gxe.ExpectColumnValuesToBeInSet(column="is_linked", value_set=[True], mostly=s.min_link_rate)],
            id_columns=("encounter_id",), setting="min_link_rate",
        ),
        GateCheck(
            "arrival_times_recorded", "incidents", ("marts", "fct_incidents"),
            f"Under {s.max_missing_arrival_share:.0%} of in-person program responses and of police responses to "
            "eligible calls lack an arrival time (they are excluded from response times, so many would bias them).",
            """select incident_number, program_response_minutes as minutes from marts.fct_incidents
               where is_served and intake_call_origin = '911_dispatch' and first_field_team is not null
               union all
               select incident_number, police_response_minutes from marts.fct_incidents
               where is_program_eligible and not is_served and police_assignments > 0""",
            [gxe.ExpectColumnValuesToNotBeNull(column="minutes", mostly=1 - s.max_missing_arrival_share)],
            id_columns=("incident_number",), setting="max_missing_arrival_share",
        ),
        # ------------------------------------------------------------------------------------ marts
        GateCheck(
            "shares_between_0_and_1", "marts", ("marts", "mart_kpis"),
            "Every share and rate column of every mart lies within [0, 1].",
            "__SHARES__",  # built from the warehouse catalog at run time (see runner.shares_sql)
            [gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=1)],
            id_columns=("measure",),
        ),
        GateCheck(
            "totals_reconcile_across_marts", "marts", ("marts", "mart_kpis"),
            "The same count reached through different marts is the same number, in every period.",
            """with e as (select * from marts.mart_eligibility)
               select 'incident volume = eligibility incidents' as reconciliation, e.period_grain, e.period_start,
                      e.incidents - coalesce((select sum(incidents) from marts.mart_incident_volume v
                        where v.period_grain = e.period_grain and v.period_start = e.period_start), 0) as difference
               from e
               union all
               select 'forgone by reason = eligibility forgone', e.period_grain, e.period_start,
                      e.forgone_incidents - coalesce((select sum(forgone_incidents) from marts.mart_forgone_by_reason r
                        where r.period_grain = e.period_grain and r.period_start = e.period_start
                          and r.coverage_view = 'current'), 0)
               from e
               union all
               select 'forgone by beat = eligibility forgone', e.period_grain, e.period_start,
                      e.forgone_incidents - coalesce((select sum(forgone_incidents) from marts.mart_forgone_by_beat b
                        where b.period_grain = e.period_grain and b.period_start = e.period_start), 0)
               from e
               union all
               select 'forgone by weekday-hour = eligibility forgone', e.period_grain, e.period_start,
                      e.forgone_incidents - coalesce((select sum(forgone_incidents) from marts.mart_forgone_by_weekday_hour w
                        where w.period_grain = e.period_grain and w.period_start = e.period_start), 0)
               from e
               union all
               select 'police time served = comparative served', p.period_grain, p.period_start,
                      p.served_eligible_911_incidents - coalesce((select incidents from marts.mart_comparative_outcomes c
                        where c.period_grain = p.period_grain and c.period_start = p.period_start
                          and c.comparison_group = 'served'), 0)
               from marts.mart_police_time_saved p
               union all
               select 'follow-ups served = referrals served', f.period_grain, f.period_start,
                      f.served_incidents - coalesce((select served_incidents from marts.mart_referrals r
                        where r.period_grain = f.period_grain and r.period_start = f.period_start
                          and r.referral_type = 'any'), 0)
               from marts.mart_follow_ups f""",
            [gxe.ExpectColumnValuesToBeBetween(column="difference", min_value=0, max_value=0)],
            id_columns=("reconciliation", "period_grain", "period_start"),
        ),
        GateCheck(
            "kpi_table_agrees_with_marts", "marts", ("marts", "mart_kpis"),
            "Every KPI row equals the value in the mart it names.",
            """select k.metric, k.period_grain, k.period_start,
                      case when k.value is null and m.value is null then 0
                           when k.value is null or m.value is null then 1
                           else abs(k.value - m.value) end as difference
               from marts.mart_kpis k
               join (
                 select 'share_of_eligible_served' as metric, period_grain, period_start, null as dim, share_of_eligible_served as value from marts.mart_eligibility
                 union all select 'incidents', period_grain, period_start, null, incidents from marts.mart_eligibility
                 union all select 'police_hours_saved', period_grain, period_start, null, police_hours_saved from marts.mart_police_time_saved
                 union all select 'response_time_median_minutes', period_grain, period_start, responder, median_minutes from marts.mart_response_times
                 union all select 'arrests_per_100', period_grain, period_start, comparison_group, arrests_per_100 from marts.mart_comparative_outcomes
                 union all select 'encounter_link_rate', period_grain, period_start, null, link_rate from marts.mart_encounter_links
               ) m on m.metric = k.metric and m.period_grain = k.period_grain and m.period_start = k.period_start
                  and coalesce(m.dim, '') = coalesce(k.dimension_value, '')""",
            [gxe.ExpectColumnValuesToBeBetween(column="difference", min_value=0, max_value=1e-9),
             gxe.ExpectTableRowCountToBeBetween(min_value=1)],
            id_columns=("metric", "period_grain", "period_start"),
        ),
        GateCheck(
            "no_small_cells_published", "marts", ("public_marts", "pub_incident_volume_monthly"),
            f"No public mart publishes a count from 1 to {MIN_CELL - 1}, and no group has exactly one suppressed "
            "cell beside published ones (its total minus the published cells would reveal it).",
            _public_cells_sql(),
            [gxe.ExpectColumnValuesToNotBeInSet(column="published_count", value_set=list(range(1, MIN_CELL))),
             gxe.ExpectColumnValuesToNotBeInSet(column="lone_suppressed_cell", value_set=[True])],
            id_columns=("public_mart", "period"),
        ),
    ]
