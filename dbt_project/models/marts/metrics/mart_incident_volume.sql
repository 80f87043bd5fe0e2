-- Incidents (never calls) by origin and by the program team that served them.
with base as (
    select
        local_date,
        call_origin,
        coalesce(served_by_team, 'not_served') as served_by_team,
        call_count
    from {{ ref('fct_incidents') }}
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    call_origin,
    served_by_team,
    count(*) as incidents,
    cast(sum(call_count) as bigint) as calls
from periods
group by period_grain, period_start, call_origin, served_by_team
