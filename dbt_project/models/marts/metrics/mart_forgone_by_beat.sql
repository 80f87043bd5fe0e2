-- Forgone opportunities by police beat: where to expand.
with base as (
    select
        local_date,
        coalesce(beat, 'UNKNOWN') as beat,
        is_served,
        is_in_service_area
    from {{ ref('fct_incidents') }}
    where is_program_eligible
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    beat,
    count(*) as eligible_incidents,
    {{ flag_sum("not is_served") }} as forgone_incidents,
    {{ flag_sum("not is_served and not is_in_service_area") }} as forgone_outside_area,
    {{ safe_share(flag_sum("not is_served"), "count(*)") }} as share_of_eligible_forgone
from periods
group by period_grain, period_start, beat
