-- The primary outcome of served incidents (from the linked encounter), with and without
-- unable-to-locate in the denominator.
with base as (
    select
        local_date,
        primary_outcome
    from {{ ref('fct_incidents') }}
    where is_served and primary_outcome is not null
),

periods as ({{ by_period('base', 'local_date') }}),

counts as (
    select
        period_grain,
        period_start,
        primary_outcome,
        count(*) as incidents
    from periods
    group by period_grain, period_start, primary_outcome
),

totals as (
    select
        period_grain,
        period_start,
        cast(sum(incidents) as bigint) as incidents_with_outcome,
        cast(sum(case when primary_outcome = 'unable_to_locate' then incidents else 0 end) as bigint)
            as unable_to_locate
    from counts
    group by period_grain, period_start
)

select
    c.period_grain,
    c.period_start,
    c.primary_outcome,
    c.incidents,
    t.incidents_with_outcome,
    {{ if_recorded('cm_encounters.primary_outcome', safe_share('c.incidents', 't.incidents_with_outcome')) }}
        as share_with_unable_to_locate,
    case when c.primary_outcome <> 'unable_to_locate'
            then {{ if_recorded('cm_encounters.primary_outcome',
                             safe_share('c.incidents', 't.incidents_with_outcome - t.unable_to_locate')) }}
    end
        as share_without_unable_to_locate
from counts as c
inner join totals as t on c.period_grain = t.period_grain and c.period_start = t.period_start
