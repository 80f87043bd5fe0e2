{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_rebuilt_incidents(['stg_cad__unit_assignments', 'stg_cad__incidents'],
                                          [['stg_cad__unit_assignments', 'assignment_count', true]]) }}"
) }}

-- What every agency and program team did on each incident, from CAD unit assignments.
-- Which unit types are program teams, and which go to the scene, comes from the unit_types seed.
-- Incremental: only the incidents whose own row or assignments landed since the last build
-- (macros/changed_incidents.sql).
with unit_types as (
    select * from {{ ref('unit_types') }}
),

assignments as (
    select
        a.*,
        i.received_at,
        coalesce(t.is_program and t.answers_incidents, false) as is_program_unit,
        coalesce(t.is_field_unit, false) as is_field_unit,
        coalesce(a.unit_disposition, '') = 'declined' as is_declined
    from {{ ref('stg_cad__unit_assignments') }} as a
    inner join {{ ref('stg_cad__incidents') }} as i on a.incident_number = i.incident_number
    left join unit_types as t on a.unit_type = t.code
    where {{ not_yet_built('a.incident_number') }}
),

first_field_unit as (
    -- the first non-declined program field unit sent; its team is the incident's team
    select
        incident_number,
        unit_type,
        dispatched_at,
        arrived_at
    from (
        select
            incident_number,
            unit_type,
            dispatched_at,
            arrived_at,
            row_number() over (partition by incident_number order by dispatched_at, assignment_id) as dispatch_order
        from assignments
        where is_program_unit and is_field_unit and not is_declined
    ) as ranked
    where dispatch_order = 1
),

rolled_up as (
    select
        incident_number,
        count(*) as assignment_count,
        {{ flag_sum("is_program_unit and not is_declined") }} as program_assignments,
        {{ flag_sum("is_program_unit and not is_field_unit and not is_declined") }} as phone_diversion_assignments,
        {{ flag_sum("is_program_unit and is_declined") }} as declined_program_assignments,
        {{ flag_sum("is_field_unit and not is_declined") }} as field_assignments,
        {{ flag_sum("is_program_unit and is_field_unit and not is_declined") }} as program_field_assignments,
        {{ flag_sum("is_program_unit and is_field_unit and not is_declined and dispatched_at is not null
                     and cleared_at is not null") }} as program_field_assignments_cleared,
        sum(case when is_program_unit and is_field_unit and not is_declined and dispatched_at is not null
                and cleared_at is not null
                then {{ minutes_between('dispatched_at', 'cleared_at') }} / 60.0
        end) as program_field_hours,
        {{ flag_sum("unit_type = 'police'") }} as police_assignments,
        -- unit hours need both times: a unit without a dispatch time is left out of hours per unit
        {{ flag_sum("unit_type = 'police' and dispatched_at is not null and cleared_at is not null") }}
            as police_assignments_cleared,
        sum(case when unit_type = 'police' and dispatched_at is not null and cleared_at is not null
                then {{ minutes_between('dispatched_at', 'cleared_at') }} / 60.0
        end) as police_unit_hours,
        min(case when unit_type = 'police' then dispatched_at end) as police_first_dispatched_at,
        min(case when unit_type = 'police' then arrived_at end) as police_first_arrived_at,
        {{ flag_sum("unit_type = 'police' and " ~ minutes_between('received_at', 'dispatched_at')
                    ~ " <= " ~ var('concurrent_dispatch_minutes')) }} as police_sent_at_intake,
        {{ flag_sum("transported_at is not null") }} as transporting_assignments
    from assignments
    group by incident_number
)

select
    r.*,
    f.unit_type as first_field_team,
    f.dispatched_at as first_field_dispatched_at,
    f.arrived_at as first_field_arrived_at
from rolled_up as r
left join first_field_unit as f on r.incident_number = f.incident_number
