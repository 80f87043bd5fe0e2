-- Repeat contacts at the same place: of the program-eligible 911 incidents the program served, and of
-- those police handled (the comparison groups of mart_comparative_outcomes), the share followed by
-- another 911 incident at the same location key within 30 and 90 days. An incident whose window runs
-- past the last incident loaded cannot be judged yet: it is left out and counted, never taken as
-- "no repeat". Descriptive, not causal: the groups differ in more than who answered.
with incidents as (
    select
        incident_number,
        location_key,
        received_at_utc,
        local_date,
        intake_call_origin,
        comparison_group
    from {{ ref('fct_incidents') }}
),

calls_911 as (
    select
        location_key,
        received_at_utc
    from incidents
    where intake_call_origin = '911_dispatch' and location_key is not null
),

windows as (
    select 30 as window_days
    union all
    select 90
),

indexed as (
    select
        i.incident_number,
        i.location_key,
        i.received_at_utc,
        i.local_date,
        i.comparison_group,
        w.window_days,
        {{ dbt.dateadd('day', 'w.window_days', 'i.received_at_utc') }} as window_end,
        {{ dbt.dateadd('day', 'w.window_days', 'i.received_at_utc') }}
        <= (select max(received_at_utc) from incidents) as is_observable
    from incidents as i
    cross join windows as w
    where i.comparison_group is not null and i.location_key is not null
),

judged as (
    select
        x.*,
        x.is_observable and exists (
            select 1
            from calls_911 as c
            where
                c.location_key = x.location_key
                and c.received_at_utc > x.received_at_utc
                and c.received_at_utc <= x.window_end
        ) as has_repeat
    from indexed as x
),

periods as ({{ by_period('judged', 'local_date') }})

select
    period_grain,
    period_start,
    comparison_group,
    window_days,
    {{ flag_sum("is_observable") }} as incidents_observed,
    {{ flag_sum("has_repeat") }} as incidents_with_repeat,
    {{ safe_share(flag_sum("has_repeat"), flag_sum("is_observable")) }} as share_with_repeat,
    {{ flag_sum("not is_observable") }} as incidents_not_yet_observable
from periods
group by period_grain, period_start, comparison_group, window_days
