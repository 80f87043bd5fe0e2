-- Police hours saved = served eligible 911 incidents x police units per incident x police hours per
-- unit x displacement factor. Units and hours come from program-eligible 911 incidents police handled
-- (not served); the seed's documented assumptions stand in only when the period has none. The
-- displacement factor comes from the seed in force on the period's last date.
with base as (
    select
        local_date,
        comparison_group,
        police_assignments,
        police_assignments_cleared,
        police_unit_hours
    from {{ ref('fct_incidents') }}
    where comparison_group is not null
),

periods as ({{ by_period('base', 'local_date') }}),

totals as (
    select
        period_grain,
        period_start,
        max(local_date) as as_of_date,
        {{ flag_sum("comparison_group = 'served'") }} as served_eligible_911_incidents,
        {{ flag_sum("comparison_group = 'police_handled'") }} as police_handled_incidents,
        cast(sum(case when comparison_group = 'police_handled' then police_assignments else 0 end) as bigint)
            as police_assignments,
        cast(sum(case when comparison_group = 'police_handled' then police_assignments_cleared else 0 end) as bigint)
            as police_assignments_cleared,
        sum(case when comparison_group = 'police_handled' then police_unit_hours else 0 end) as police_unit_hours
    from periods
    group by period_grain, period_start
),

{% set parameter_sql -%}
    (select p.value from {{ ref('police_time_parameters') }} as p
     where p.program = '{{ var("program") }}' and p.parameter = '{name}'
       and p.valid_from <= t.as_of_date and (p.valid_to is null or t.as_of_date <= p.valid_to))
{%- endset %}

parameters as (
    select
        t.*,
        {{ parameter_sql | replace('{name}', 'displacement_factor') }} as displacement_factor,
        {{ parameter_sql | replace('{name}', 'fallback_police_units_per_incident') }} as fallback_units,
        {{ parameter_sql | replace('{name}', 'fallback_police_hours_per_unit') }} as fallback_hours
    from totals as t
)

select
    period_grain,
    period_start,
    as_of_date,
    served_eligible_911_incidents,
    police_handled_incidents,
    police_assignments,
    police_unit_hours,
    coalesce({{ safe_share('police_assignments', 'police_handled_incidents') }}, fallback_units)
        as avg_police_units_per_incident,
    case when police_handled_incidents > 0 then 'data' else 'assumption' end as units_source,
    coalesce({{ safe_share('police_unit_hours', 'police_assignments_cleared') }}, fallback_hours)
        as avg_police_hours_per_unit,
    case when police_assignments_cleared > 0 then 'data' else 'assumption' end as hours_source,
    displacement_factor,
    served_eligible_911_incidents
    * coalesce({{ safe_share('police_assignments', 'police_handled_incidents') }}, fallback_units)
    * coalesce({{ safe_share('police_unit_hours', 'police_assignments_cleared') }}, fallback_hours)
    * displacement_factor as police_hours_saved
from parameters
