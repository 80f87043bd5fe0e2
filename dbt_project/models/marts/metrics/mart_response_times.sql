-- Response time in minutes, dispatch to arrival, for 911-dispatched incidents: each program team
-- (first non-declined program field unit sent) and police on program-eligible incidents the program
-- did not serve. Incidents without an arrival time are excluded and counted, never made zero.
-- An arrival without a dispatch time is excluded and counted apart.
with base as (
    select
        local_date,
        first_field_team as team,
        program_response_minutes as minutes,
        first_field_arrived_at_utc is not null and first_field_dispatched_at_utc is null as is_missing_dispatch
    from {{ ref('fct_incidents') }}
    where is_served and intake_call_origin = '911_dispatch' and first_field_team is not null
    union all
    select
        local_date,
        'police_on_eligible',
        police_response_minutes,
        police_first_arrived_at_utc is not null and police_first_dispatched_at_utc is null
    from {{ ref('fct_incidents') }}
    where is_program_eligible and not is_served and intake_call_origin = '911_dispatch' and police_assignments > 0
),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    team,
    count(minutes) as incidents_measured,
    {{ flag_sum("minutes is null and not is_missing_dispatch") }} as excluded_no_arrival,
    {{ flag_sum("is_missing_dispatch") }} as excluded_no_dispatch,
    avg(minutes) as mean_minutes,
    percentile_cont(0.5) within group (order by minutes) as median_minutes,
    percentile_cont(0.9) within group (order by minutes) as p90_minutes
from periods
group by period_grain, period_start, team
