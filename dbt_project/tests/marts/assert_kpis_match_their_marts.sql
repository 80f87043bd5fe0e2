{{ config(meta={'dagster': {'ref': {'name': 'mart_kpis'}}}) }}
-- The KPI table repeats the marts: spot-check metrics of each shape (a share with its numerator and
-- denominator, a count, hours, a dimensioned median and rate) against the mart that defines them.
with kpis as (
    select * from {{ ref('mart_kpis') }}
),

expected as (
    select
        'share_of_eligible_served' as metric,
        period_grain,
        period_start,
        null as dimension_value,
        share_of_eligible_served as value,
        served_eligible_incidents as numerator,
        eligible_incidents as denominator
    from {{ ref('mart_eligibility') }}
    union all
    select
        'incidents',
        period_grain,
        period_start,
        null,
        incidents as value,
        incidents as numerator,
        null
    from {{ ref('mart_eligibility') }}
    union all
    select
        'police_hours_saved',
        period_grain,
        period_start,
        null,
        police_hours_saved,
        null,
        null
    from {{ ref('mart_police_time_saved') }}
    union all
    select
        'response_time_median_minutes',
        period_grain,
        period_start,
        team,
        median_minutes,
        null,
        incidents_measured
    from {{ ref('mart_response_times') }}
    {%- if is_recorded('rms_arrests') %}
        union all
        select
            'arrests_per_100',
            period_grain,
            period_start,
            comparison_group,
            arrests_per_100,
            arrests,
            incidents
        from {{ ref('mart_comparative_outcomes') }}
    {%- endif %}
)

select
    e.metric,
    e.period_grain,
    e.period_start,
    e.dimension_value,
    e.value,
    k.value as kpi_value
from expected as e
left join kpis as k
    on e.metric = k.metric and e.period_grain = k.period_grain and e.period_start = k.period_start
        and coalesce(k.dimension_value, '') = coalesce(cast(e.dimension_value as varchar), '')
where k.metric is null
    or coalesce(abs(k.value - e.value) > 1e-9, (k.value is null) <> (e.value is null))
    or coalesce(k.numerator <> e.numerator, (k.numerator is null) <> (e.numerator is null))
    or coalesce(k.denominator <> e.denominator, (k.denominator is null) <> (e.denominator is null))
