-- Forgone opportunities by not-served reason within local weekday x hour: when eligible calls go
-- unanswered, and why (outside service hours and no unit available call for different fixes).
with base as (
    select
        local_date,
        iso_day_of_week,
        local_hour,
        not_served_reason as reason
    from {{ ref('fct_incidents') }}
    where is_program_eligible and not is_served
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    iso_day_of_week,
    local_hour,
    reason,
    count(*) as forgone_incidents,
    {{ safe_share(
        'count(*)', 'sum(count(*)) over (partition by period_grain, period_start, iso_day_of_week, local_hour)'
    ) }} as share_of_forgone_in_slot
from periods
group by period_grain, period_start, iso_day_of_week, local_hour, reason
