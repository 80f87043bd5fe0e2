-- How many case-management encounters carry a CAD incident number that exists in CAD (the link rate).
with base as (
    select
        started_local_date,
        is_linked
    from {{ ref('fct_encounters') }}
),

periods as ({{ by_period('base', 'started_local_date') }})

select
    period_grain,
    period_start,
    count(*) as encounters,
    {{ flag_sum("is_linked") }} as linked_encounters,
    {{ if_recorded('cm_encounters', safe_share(flag_sum("is_linked"), "count(*)")) }} as link_rate
from periods
group by period_grain, period_start
