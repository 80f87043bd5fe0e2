-- Unit-hours a week needed to serve a chosen share (var staffing_target_share) of forgone demand, by
-- local weekday and hour: forgone incidents per week x target share x average program time per
-- served incident (program field unit dispatch to clear). Whole loaded history.
with eligible as (
    select
        local_date,
        iso_day_of_week,
        local_hour,
        is_served
    from {{ ref('fct_incidents') }}
    where is_program_eligible
),

span as (
    select
        cast({{ dbt.datediff('min(local_date)', 'max(local_date)', 'day') }} + 1 as double precision)
        / 7 as weeks_observed
    from eligible
),

program_time as (
    select avg(program_field_hours) as avg_program_hours_per_incident
    from {{ ref('fct_incidents') }}
    where is_served and program_field_hours is not null
),

cells as (
    select
        iso_day_of_week,
        local_hour
    from (
        values
        {%- for d in range(1, 8) %}{% for h in range(24) %}
            ({{ d }}, {{ h }}){% if not (d == 7 and h == 23) %},{% endif %}
        {%- endfor %}{% endfor %}
    ) as c (iso_day_of_week, local_hour)
),

forgone as (
    select
        iso_day_of_week,
        local_hour,
        count(*) as forgone_incidents
    from eligible
    where not is_served
    group by iso_day_of_week, local_hour
)

select
    c.iso_day_of_week,
    c.local_hour,
    coalesce(f.forgone_incidents, 0) as forgone_incidents,
    s.weeks_observed,
    coalesce(f.forgone_incidents, 0) / s.weeks_observed as forgone_per_week,
    p.avg_program_hours_per_incident,
    cast({{ var('staffing_target_share') }} as double precision) as target_share,
    coalesce(f.forgone_incidents, 0) / s.weeks_observed * {{ var('staffing_target_share') }}
    * p.avg_program_hours_per_incident as unit_hours_per_week_needed
from cells as c
cross join span as s
cross join program_time as p
left join forgone as f on c.iso_day_of_week = f.iso_day_of_week and c.local_hour = f.local_hour
