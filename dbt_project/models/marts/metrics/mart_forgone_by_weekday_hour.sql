-- Forgone opportunities by local ISO weekday (1 = Monday) and hour: where unmet demand falls in the week.
with base as (
    select
        local_date,
        iso_day_of_week,
        local_hour,
        is_served
    from {{ ref('fct_incidents') }}
    where is_program_eligible
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    iso_day_of_week,
    local_hour,
    count(*) as eligible_incidents,
    {{ flag_sum("not is_served") }} as forgone_incidents,
    {{ safe_share(flag_sum("not is_served"), "count(*)") }} as share_of_eligible_forgone
from periods
group by period_grain, period_start, iso_day_of_week, local_hour
