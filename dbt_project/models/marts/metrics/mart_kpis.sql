-- One tidy table of headline metrics that a BI tool can chart without knowing each mart.
-- Every value is copied from the mart that defines it (source_mart); nothing is computed here.
-- A metric whose input the city does not record (city.yml not_recorded) gets one row per period with
-- a null value and value_note "not recorded: <input>", never a 0.
-- The list below is one row per metric and the union is generated from it: layout rules do not apply.
-- Each metric's unit, format and labels (English, Spanish) come from the seed kpi_metrics, their one home.
-- BI reads one grain at a time from mart_kpis_<grain> (macro kpis_at_grain).
-- noqa: disable=LT02,LT05
{#- metric, source mart, dimension name (or none), dimension column, numerator, denominator, value, filter,
    the input the metric needs (extract or extract.column; none = CAD alone) -#}
{%- set kpis = [
    ('incidents', 'mart_eligibility', none, none, 'incidents', none, 'incidents', none, none),
    ('eligible_incidents', 'mart_eligibility', none, none, 'eligible_incidents', none, 'eligible_incidents', none, none),
    ('share_of_eligible_served', 'mart_eligibility', none, none, 'served_eligible_incidents', 'eligible_incidents', 'share_of_eligible_served', none, none),
    ('forgone_share_of_eligible', 'mart_forgone_by_reason', 'not_served_reason', 'reason', 'forgone_incidents', 'eligible_incidents', 'share_of_eligible', "coverage_view = 'current'", none),
    ('response_time_mean_minutes', 'mart_response_times', 'team', 'team', none, 'incidents_measured', 'mean_minutes', none, none),
    ('response_time_median_minutes', 'mart_response_times', 'team', 'team', none, 'incidents_measured', 'median_minutes', none, none),
    ('response_time_p90_minutes', 'mart_response_times', 'team', 'team', none, 'incidents_measured', 'p90_minutes', none, none),
    ('outcome_share', 'mart_outcomes', 'primary_outcome', 'primary_outcome', 'incidents', 'incidents_with_outcome', 'share_with_unable_to_locate', none, 'cm_encounters.primary_outcome'),
    ('responder_felt_safe_share', 'mart_responder_safety', none, none, 'encounters_felt_safe', 'encounters_answered', 'share_felt_safe', none, 'cm_encounters.responder_felt_safe'),
    ('police_backup_rate', 'mart_backup_requests', none, none, 'police_backup_requests', 'in_person_encounters', 'police_backup_rate', none, 'cm_encounters.police_backup_requested_at'),
    ('referral_share', 'mart_referrals', 'referral_type', 'referral_type', 'incidents_with_referral', 'served_incidents', 'share_of_served', none, 'cm_referrals'),
    ('transport_share', 'mart_transports', 'destination_type', 'destination_type', 'incidents_with_transport', 'served_incidents', 'share_of_served', none, 'cm_transports'),
    ('follow_up_within_48h_share', 'mart_follow_ups', none, none, 'incidents_followed_up_within_48h', 'served_incidents', 'share_followed_up_within_48h', none, 'cm_follow_ups'),
    ('police_hours_saved', 'mart_police_time_saved', none, none, none, none, 'police_hours_saved', none, none),
    ('arrests_per_100', 'mart_comparative_outcomes', 'comparison_group', 'comparison_group', 'arrests', 'incidents', 'arrests_per_100', none, 'rms_arrests'),
    ('arrests_per_100_standardized', 'mart_comparative_outcomes', 'comparison_group', 'comparison_group', none, 'incidents', 'standardized_arrests_per_100', none, 'rms_arrests'),
    ('transports_per_100', 'mart_comparative_outcomes', 'comparison_group', 'comparison_group', 'transported_incidents', 'incidents', 'transports_per_100', none, none),
    ('encounter_link_rate', 'mart_encounter_links', none, none, 'linked_encounters', 'encounters', 'link_rate', none, 'cm_encounters'),
] %}

with kpi_values as (
{%- for metric, mart, dimension, dimension_column, numerator, denominator, value, filter, needs in kpis %}
{%- if needs and not is_recorded(needs) %}
select
    '{{ metric }}' as metric,
    period_grain,
    period_start,
    cast({{ "'" ~ dimension ~ "'" if dimension else 'null' }} as varchar) as dimension,
    cast(null as varchar) as dimension_value,
    cast(null as double precision) as numerator,
    cast(null as double precision) as denominator,
    cast(null as double precision) as value,
    '{{ mart }}' as source_mart,
    cast('not recorded: {{ needs }}' as varchar) as value_note
from {{ ref('mart_eligibility') }}
{%- else %}
select
    '{{ metric }}' as metric,
    period_grain,
    period_start,
    cast({{ "'" ~ dimension ~ "'" if dimension else 'null' }} as varchar) as dimension,
    {{ 'cast(' ~ dimension_column ~ ' as varchar)' if dimension_column else 'cast(null as varchar)' }} as dimension_value,
    cast({{ numerator or 'null' }} as double precision) as numerator,
    cast({{ denominator or 'null' }} as double precision) as denominator,
    cast({{ value }} as double precision) as value,
    '{{ mart }}' as source_mart,
    cast(null as varchar) as value_note
from {{ ref(mart) }}
{%- if filter %}
where {{ filter }}
{%- endif %}
{%- endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
)

select
    kpi_values.metric,
    kpi_values.period_grain,
    kpi_values.period_start,
    kpi_values.dimension,
    kpi_values.dimension_value,
    kpi_values.numerator,
    kpi_values.denominator,
    kpi_values.value,
    kpi_values.source_mart,
    kpi_values.value_note,
    presentation.unit,
    presentation.value_format,
    presentation.label,
    presentation.label_es
from kpi_values
left join {{ ref('kpi_metrics') }} as presentation on kpi_values.metric = presentation.metric
