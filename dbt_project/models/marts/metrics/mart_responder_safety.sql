-- Share of encounters where responders reported feeling safe (of those answering the question).
with base as (
    select
        started_local_date,
        responder_felt_safe
    from {{ ref('fct_encounters') }}
    where responder_felt_safe is not null
),

periods as ({{ by_period('base', 'started_local_date') }})

select
    period_grain,
    period_start,
    count(*) as encounters_answered,
    {{ flag_sum("responder_felt_safe") }} as encounters_felt_safe,
    {{ if_recorded('cm_encounters.responder_felt_safe', safe_share(flag_sum("responder_felt_safe"), "count(*)")) }}
        as share_felt_safe
from periods
group by period_grain, period_start
