{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_rebuilt_incidents(
        ['stg_cad__incidents', 'stg_cad__calls', 'stg_cad__unit_assignments'],
        [['stg_cad__calls', 'call_count', true], ['stg_cad__unit_assignments', 'assignment_count', true]],
        fct_incidents_differing()) }}"
) }}

-- One row per CAD incident with every flag and measure the metric marts use.
-- Import CTEs first (everything this model reads), then the logic, then the final select.
-- Incremental: the pre-hook deletes the incidents whose inputs changed since the last build
-- (macros/changed_incidents.sql), and the build appends every incident the table does not hold.
-- The pre-hook also reads calls and unit assignments:
-- depends_on: {{ ref('stg_cad__calls') }}
-- depends_on: {{ ref('stg_cad__unit_assignments') }}
with incidents as (
    select * from {{ ref('stg_cad__incidents') }} as incidents
    where {{ not_yet_built('incidents.incident_number') }}
),

call_types as (
    select * from {{ ref('call_types') }}
),

calls as (
    select * from {{ ref('int_incidents_calls') }}
),

eligibility as (
    select * from {{ ref('int_incidents_eligibility') }}
),

unit_responses as (
    select * from {{ ref('int_incidents_unit_responses') }}
),

not_served_reasons as (
    select * from {{ ref('int_incidents_not_served_reasons') }}
),

availability as (
    select * from {{ ref('int_incidents_availability') }}
),

encounter_rollup as (
    select * from {{ ref('int_incidents_encounters') }}
),

arrests as (
    select * from {{ ref('int_incidents_arrests') }}
),

joined as (
    select
        i.incident_number,
        i.received_at as received_at_utc,
        i.received_at_local,
        cast(i.received_at_local as date) as local_date,
        cast(extract(hour from i.received_at_local) as integer) as local_hour,
        cast(extract(isodow from i.received_at_local) as integer) as iso_day_of_week,
        cast(floor(extract(hour from i.received_at_local) / 6) as integer) as hour_band,
        i.call_origin as intake_call_origin,
        i.call_type,
        ct.apco_code,
        i.initial_call_type,
        i.priority,
        i.beat,
        i.location_key,
        i.disposition_code,
        coalesce(c.call_count, 0) as call_count,
        e.is_calltype_eligible,
        e.is_screen_eligible,
        e.is_not_triaged,
        e.is_in_service_area,
        e.is_in_service_hours,
        e.is_program_eligible,
        e.risk_screen_source,
        coalesce(r.program_assignments, 0) > 0 as is_served,
        coalesce(r.phone_diversion_assignments, 0) > 0 and coalesce(r.field_assignments, 0) = 0 as is_phone_resolved,
        r.first_field_team,
        r.first_field_dispatched_at as first_field_dispatched_at_utc,
        r.first_field_arrived_at as first_field_arrived_at_utc,
        r.program_field_hours,
        coalesce(r.program_field_assignments, 0) as program_field_assignments,
        coalesce(r.program_field_assignments_cleared, 0) as program_field_assignments_cleared,
        n.not_served_reason,
        n.not_served_reason_unconstrained,
        a.field_units_on_shift,
        a.field_units_busy,
        a.is_field_unit_available,
        coalesce(r.assignment_count, 0) as assignment_count,
        coalesce(r.police_assignments, 0) as police_assignments,
        coalesce(r.police_assignments_cleared, 0) as police_assignments_cleared,
        r.police_unit_hours,
        r.police_first_dispatched_at as police_first_dispatched_at_utc,
        r.police_first_arrived_at as police_first_arrived_at_utc,
        coalesce(r.police_sent_at_intake, 0) > 0 as has_police_sent_at_intake,
        coalesce(r.transporting_assignments, 0) > 0 as has_transport,
        x.encounter_id,
        x.primary_outcome,
        coalesce(x.has_referral, false) as has_referral,
        coalesce(x.has_program_transport, false) as has_program_transport,
        coalesce(x.has_follow_up, false) as has_follow_up,
        coalesce(x.has_follow_up_within_window, false) as has_follow_up_within_window,
        coalesce(ar.arrest_count, 0) as arrest_count
    from incidents as i
    left join call_types as ct on {{ normalize_code('ct.call_type') }} = i.call_type
    left join calls as c on i.incident_number = c.incident_number
    left join eligibility as e on i.incident_number = e.incident_number
    left join unit_responses as r on i.incident_number = r.incident_number
    left join not_served_reasons as n on i.incident_number = n.incident_number
    left join availability as a on i.incident_number = a.incident_number
    left join encounter_rollup as x on i.incident_number = x.incident_number
    left join arrests as ar on i.incident_number = ar.incident_number
),

final as (
    select
        *,
        case when is_phone_resolved then 'phone_resolved' else intake_call_origin end as call_origin,
        case
            when is_phone_resolved then 'ccd'
            when is_served then first_field_team
        end as served_by_team,
        case
            when first_field_arrived_at_utc is not null and intake_call_origin = '911_dispatch'
                then {{ minutes_between('first_field_dispatched_at_utc', 'first_field_arrived_at_utc') }}
        end as program_response_minutes,
        case
            when police_first_arrived_at_utc is not null
                then {{ minutes_between('police_first_dispatched_at_utc', 'police_first_arrived_at_utc') }}
        end as police_response_minutes,
        is_served and intake_call_origin = '911_dispatch' and has_police_sent_at_intake
            as has_concurrent_police_dispatch,
        -- the two groups compared for arrests, transports and police time: eligible 911 calls,
        -- phone resolutions aside
        case
            when not is_program_eligible or intake_call_origin <> '911_dispatch' or is_phone_resolved then null
            when is_served then 'served'
            when police_assignments > 0 then 'police_handled'
        end as comparison_group
    from joined
)

select * from final
