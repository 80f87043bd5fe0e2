-- Served incidents (with a linked encounter) that got a Care Navigation follow-up, and within the window (48 h).
with base as (
    select
        local_date,
        has_follow_up,
        has_follow_up_within_window
    from {{ ref('fct_incidents') }}
    where is_served and encounter_id is not null
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    count(*) as served_incidents,
    {{ flag_sum("has_follow_up") }} as incidents_followed_up,
    {{ flag_sum("has_follow_up_within_window") }} as incidents_followed_up_within_48h,
    {{ if_recorded('cm_follow_ups', safe_share(flag_sum("has_follow_up"), "count(*)")) }} as share_followed_up,
    {{ if_recorded('cm_follow_ups', safe_share(flag_sum("has_follow_up_within_window"), "count(*)")) }}
        as share_followed_up_within_48h
from periods
group by period_grain, period_start
