-- Repeat contacts of people: of the people the program served on a 911 incident, the share it served
-- again on another 911 incident within 30 and 90 days. Each person counts once per period, judged
-- from their first such incident in it. Only repeats the program itself saw can count (CAD does not
-- say who called, so a later incident police handled is invisible here): a lower bound, with no
-- police-handled comparison. A person whose window runs past the last incident loaded is counted
-- apart, never as "no repeat".
with contacts as (
    select distinct
        e.person_key,
        i.incident_number,
        i.received_at_utc,
        i.local_date
    from {{ ref('fct_encounters') }} as e
    inner join {{ ref('fct_incidents') }} as i on e.incident_number = i.incident_number
    where e.is_linked and e.person_key is not null and i.is_served and i.intake_call_origin = '911_dispatch'
),

windows as (
    select 30 as window_days
    union all
    select 90
),

judged as (
    select
        c.person_key,
        c.incident_number,
        c.received_at_utc,
        c.local_date,
        w.window_days,
        {{ dbt.dateadd('day', 'w.window_days', 'c.received_at_utc') }}
        <= (select max(received_at_utc) from {{ ref('fct_incidents') }}) as is_observable,
        exists(
            select 1
            from contacts as later
            where
                later.person_key = c.person_key
                and later.received_at_utc > c.received_at_utc
                and later.received_at_utc <= {{ dbt.dateadd('day', 'w.window_days', 'c.received_at_utc') }}
        ) as is_served_again
    from contacts as c
    cross join windows as w
),

periods as ({{ by_period('judged', 'local_date') }}),

first_in_period as (
    select
        *,
        row_number() over (
            partition by period_grain, period_start, window_days, person_key
            order by received_at_utc, incident_number
        ) as contact_order
    from periods
)

select
    period_grain,
    period_start,
    window_days,
    count(*) as people_served,
    {{ flag_sum("is_observable") }} as people_observed,
    {{ flag_sum("is_observable and is_served_again") }} as people_with_repeat,
    {{ safe_share(flag_sum("is_observable and is_served_again"), flag_sum("is_observable")) }} as share_with_repeat,
    {{ flag_sum("not is_observable") }} as people_not_yet_observable
from first_in_period
where contact_order = 1
group by period_grain, period_start, window_days
