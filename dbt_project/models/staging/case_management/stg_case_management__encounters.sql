{{ config(unique_key='encounter_id') }}

with latest as (
    {{ latest_version(source('case_management', 'cm_encounters'), ['encounter_id']) }}
)

select
    encounter_id,
    incident_number,
    {{ person_key('person_id') }} as person_key,
    team_type as team,
    call_origin,
    started_at,
    ended_at,
    primary_outcome,
    responder_felt_safe,
    police_backup_requested_at,
    police_backup_reason,
    ems_requested_at,
    ems_request_reason,
    updated_at,
    _landed_at
    -- narrative is sensitive and stops here
from latest
