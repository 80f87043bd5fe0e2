-- Forgone opportunities by not-served reason within police beat: where eligible calls go unanswered,
-- and why (outside the service area asks for expansion; no unit available asks for staffing).
with base as (
    select
        local_date,
        coalesce(beat, 'UNKNOWN') as beat,
        not_served_reason as reason
    from {{ ref('fct_incidents') }}
    where is_program_eligible and not is_served
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    beat,
    reason,
    count(*) as forgone_incidents,
    {{ safe_share('count(*)', 'sum(count(*)) over (partition by period_grain, period_start, beat)') }}
        as share_of_forgone_in_beat
from periods
group by period_grain, period_start, beat, reason
