-- Arrests and transports per 100 program-eligible 911 incidents: served by the program vs handled
-- by police. Crude rates, and rates directly standardized to a common call type x hour-band mix
-- (the combined incidents of both groups, over strata where both groups have incidents).
-- Descriptive, not causal: the groups differ in ways the data does not show.
with base as (
    select
        local_date,
        comparison_group,
        call_type,
        hour_band,
        arrest_count,
        has_transport
    from {{ ref('fct_incidents') }}
    where comparison_group is not null
),

periods as ({{ by_period('base', 'local_date') }}),

strata as (
    select
        period_grain,
        period_start,
        comparison_group,
        call_type,
        hour_band,
        count(*) as incidents,
        cast(sum(arrest_count) as bigint) as arrests,
        {{ flag_sum("has_transport") }} as transported_incidents
    from periods
    group by period_grain, period_start, comparison_group, call_type, hour_band
),

common_strata as (
    select
        period_grain,
        period_start,
        call_type,
        hour_band,
        sum(incidents) as standard_incidents
    from strata
    group by period_grain, period_start, call_type, hour_band
    having count(distinct comparison_group) = 2
),

weights as (
    select
        c.*,
        {{ safe_share(
            'c.standard_incidents',
            'sum(c.standard_incidents) over (partition by c.period_grain, c.period_start)'
        ) }}
            as weight
    from common_strata as c
),

standardized as (
    select
        s.period_grain,
        s.period_start,
        s.comparison_group,
        100 * sum(w.weight * {{ if_recorded('rms_arrests', safe_share('s.arrests', 's.incidents')) }})
            as standardized_arrests_per_100,
        100
        * sum(w.weight * {{ safe_share('s.transported_incidents', 's.incidents') }}) as standardized_transports_per_100
    from strata as s
    inner join weights as w
        on s.period_grain = w.period_grain and s.period_start = w.period_start
            and s.call_type = w.call_type and s.hour_band = w.hour_band
    group by s.period_grain, s.period_start, s.comparison_group
),

crude as (
    select
        period_grain,
        period_start,
        comparison_group,
        cast(sum(incidents) as bigint) as incidents,
        cast(sum(arrests) as bigint) as arrests,
        cast(sum(transported_incidents) as bigint) as transported_incidents
    from strata
    group by period_grain, period_start, comparison_group
)

select
    c.period_grain,
    c.period_start,
    c.comparison_group,
    c.incidents,
    c.arrests,
    -- arrests come from police records (RMS): null, never 0, where the city does not load them
    100 * {{ if_recorded('rms_arrests', safe_share('c.arrests', 'c.incidents')) }} as arrests_per_100,
    c.transported_incidents,
    100 * {{ safe_share('c.transported_incidents', 'c.incidents') }} as transports_per_100,
    s.standardized_arrests_per_100,
    s.standardized_transports_per_100
from crude as c
left join standardized as s
    on c.period_grain = s.period_grain and c.period_start = s.period_start and c.comparison_group = s.comparison_group
