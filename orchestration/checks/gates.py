"""The quality gate's thresholds, in code and reviewed like code: one function per layer.

Every rule has one home (docs/architecture.md):
- a row rule (codes, time order, plausible durations) is in the extract contract, applied at landing;
- a reconciliation or consistency rule (counts add up, flags agree, codes come from a seed, no small
  cell is published) is a dbt test, run by every `dbt build`;
- a threshold a city tunes (volume band, unknown-reason share, link rate, missing times) is here, as a
  Great Expectations check whose limit comes from the settings (city.yml thresholds).

Each check names the asset it guards, the SQL that selects what it inspects (read-only, from the
warehouse; only the columns the suite needs) and its expectations. SQL here only selects data for
inspection; metrics are computed in dbt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.settings import Settings


@dataclass(frozen=True)
class Expectation:
    """A Great Expectations expectation by class name and arguments, built only when a check runs:
    importing GX takes seconds, and the hourly run that finds nothing new never runs a check."""

    kind: str
    arguments: dict

    def build(self):
        import great_expectations.expectations as gxe

        return getattr(gxe, self.kind)(**self.arguments)


class _Expectations:
    """`gxe.ExpectColumnValuesToNotBeNull(column=...)` reads as in GX and gives an Expectation."""

    def __getattr__(self, kind: str):
        return lambda **arguments: Expectation(kind, arguments)


gxe = _Expectations()


@dataclass(frozen=True)
class GateCheck:
    name: str
    gate: str  # raw | incidents
    asset: tuple[str, ...]  # asset key the check is attached to
    description: str
    sql: str
    expectations: list = field(default_factory=list)
    id_columns: tuple[str, ...] = ()  # selected by `sql`: name the offending rows in a failure message
    setting: str | None = None  # the settings field (threshold) that governs the check, named in failures


def raw_checks(settings: Settings) -> list[GateCheck]:
    """Before dbt: is the landed data complete enough to build on?"""
    local_date = f"cast(timezone('{settings.city_tz}', timezone('UTC', received_at)) as date)"
    return [
        GateCheck(
            "unit_clear_times_recorded",
            "raw",
            ("raw", "cad_unit_assignments"),
            f"At most {settings.max_missing_clear_share:.0%} of unit assignments lack a clear time (unit hours and "
            "availability need it). Landing has already quarantined every row out of order or beyond the "
            "city's duration limits.",
            "select assignment_id, cleared_at from raw.cad_unit_assignments",
            [gxe.ExpectColumnValuesToNotBeNull(column="cleared_at", mostly=1 - settings.max_missing_clear_share)],
            id_columns=("assignment_id",),
            setting="max_missing_clear_share",
        ),
        GateCheck(
            "daily_volume_within_band",
            "raw",
            ("raw", "cad_incidents"),
            f"Each day's incidents are within ±{settings.daily_volume_band:.0%} of the median for that day of "
            "the week (the latest day is left out: it may still be arriving).",
            f"""with days as (
                    select {local_date} as local_date, count(*) as incidents
                    from raw.cad_incidents group by 1),
                  typical as (
                    select isodow(local_date) as dow, median(incidents) as median_incidents from days group by 1)
                select d.local_date, d.incidents, d.incidents / t.median_incidents as ratio_to_weekday_median
                from days d join typical t on t.dow = isodow(d.local_date)
                where d.local_date < (select max(local_date) from days)""",
            [
                gxe.ExpectColumnValuesToBeBetween(
                    column="ratio_to_weekday_median",
                    min_value=1 - settings.daily_volume_band,
                    max_value=1 + settings.daily_volume_band,
                )
            ],
            id_columns=("local_date",),
            setting="daily_volume_band",
        ),
    ]


def incident_checks(settings: Settings) -> list[GateCheck]:
    """After the fact tables, before the metric marts: would the metrics be trustworthy?"""
    return [
        GateCheck(
            "unknown_reason_share_under_limit",
            "incidents",
            ("marts", "fct_incidents"),
            f"'unknown' stays under {settings.max_unknown_reason_share:.0%} of the reasons eligible incidents went "
            "unserved (a larger share means a reason the data cannot tell, e.g. a missing roster).",
            """select incident_number, not_served_reason from marts.fct_incidents
               where is_program_eligible and not is_served""",
            [
                gxe.ExpectColumnValuesToNotBeInSet(
                    column="not_served_reason", value_set=["unknown"], mostly=1 - settings.max_unknown_reason_share
                )
            ],
            id_columns=("incident_number",),
            setting="max_unknown_reason_share",
        ),
        GateCheck(
            "encounters_link_to_cad",
            "incidents",
            ("marts", "fct_encounters"),
            f"At least {settings.min_link_rate:.0%} of case-management encounters carry a CAD incident number "
            "found in CAD.",
            "select encounter_id, is_linked from marts.fct_encounters",
            [gxe.ExpectColumnValuesToBeInSet(column="is_linked", value_set=[True], mostly=settings.min_link_rate)],
            id_columns=("encounter_id",),
            setting="min_link_rate",
        ),
        GateCheck(
            "arrival_times_recorded",
            "incidents",
            ("marts", "fct_incidents"),
            f"Under {settings.max_missing_arrival_share:.0%} of in-person program responses and of police responses "
            "to eligible calls lack an arrival time (they are excluded from response times, so many would bias "
            "them).",
            """select incident_number, program_response_minutes as minutes from marts.fct_incidents
               where is_served and intake_call_origin = '911_dispatch' and first_field_team is not null
               union all
               select incident_number, police_response_minutes from marts.fct_incidents
               where is_program_eligible and not is_served and police_assignments > 0""",
            [gxe.ExpectColumnValuesToNotBeNull(column="minutes", mostly=1 - settings.max_missing_arrival_share)],
            id_columns=("incident_number",),
            setting="max_missing_arrival_share",
        ),
    ]


def gate_checks(settings: Settings) -> list[GateCheck]:
    """Every check of the quality gate, raw first."""
    return [*raw_checks(settings), *incident_checks(settings)]
