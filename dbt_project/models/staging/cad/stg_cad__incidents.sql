{{ config(unique_key='incident_number') }}

with latest as (
    {{ latest_version(source('cad', 'cad_incidents'), ['incident_number']) }}
)

select
    incident_number,
    received_at,
    {{ to_local('received_at') }} as received_at_local,
    call_origin,
    {{ normalize_code('initial_call_type') }} as initial_call_type,
    {{ normalize_code('final_call_type') }} as final_call_type,
    -- the call type eligibility is judged on: final when the CAD recorded one, else initial
    {{ normalize_code('coalesce(final_call_type, initial_call_type)') }} as call_type,
    priority,
    {{ normalize_code('beat') }} as beat,
    location_key,
    weapon_involved,
    violence_in_progress,
    medical_need,
    upper(trim(disposition_code)) as disposition_code,
    closed_at,
    _landed_at
    -- address is sensitive and stops here
from latest
