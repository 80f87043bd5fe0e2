-- Three different things, kept apart: police backup requested on scene and EMS requested on scene
-- (per in-person encounter), and police sent at intake alongside the team (concurrent dispatch,
-- per served 911 incident with a team sent: phone-resolved incidents never have a team on scene, so
-- they cannot have police alongside one). Co-response, a planned team type, is in mart_incident_volume.
with encounters as (
    select
        started_local_date as local_date,
        police_backup_requested,
        ems_requested
    from {{ ref('fct_encounters') }}
    where is_in_person
),

incidents as (
    select
        local_date,
        has_concurrent_police_dispatch
    from {{ ref('fct_incidents') }}
    where is_served and intake_call_origin = '911_dispatch' and not is_phone_resolved
),

encounter_periods as ({{ by_period('encounters', 'local_date') }}),

incident_periods as ({{ by_period('incidents', 'local_date') }}),

by_encounter as (
    select
        period_grain,
        period_start,
        count(*) as in_person_encounters,
        {{ flag_sum("police_backup_requested") }} as police_backup_requests,
        {{ flag_sum("ems_requested") }} as ems_requests
    from encounter_periods
    group by period_grain, period_start
),

by_incident as (
    select
        period_grain,
        period_start,
        count(*) as served_911_field_incidents,
        {{ flag_sum("has_concurrent_police_dispatch") }} as concurrent_police_dispatches
    from incident_periods
    group by period_grain, period_start
)

select
    coalesce(e.period_grain, i.period_grain) as period_grain,
    coalesce(e.period_start, i.period_start) as period_start,
    coalesce(e.in_person_encounters, 0) as in_person_encounters,
    coalesce(e.police_backup_requests, 0) as police_backup_requests,
    coalesce(e.ems_requests, 0) as ems_requests,
    -- null, never 0, where the city's case management does not record backup requests (city.yml not_recorded)
    {{ if_recorded('cm_encounters.police_backup_requested_at',
                   safe_share('e.police_backup_requests', 'e.in_person_encounters')) }} as police_backup_rate,
    {{ if_recorded('cm_encounters.ems_requested_at',
                   safe_share('e.ems_requests', 'e.in_person_encounters')) }} as ems_request_rate,
    coalesce(i.served_911_field_incidents, 0) as served_911_field_incidents,
    coalesce(i.concurrent_police_dispatches, 0) as concurrent_police_dispatches,
    {{ safe_share('i.concurrent_police_dispatches', 'i.served_911_field_incidents') }}
        as concurrent_police_dispatch_rate
from by_encounter as e
full outer join by_incident as i on e.period_grain = i.period_grain and e.period_start = i.period_start
