{{ config(unique_key='call_id') }}

with latest as (
    {{ latest_version(source('cad', 'cad_calls'), ['call_id']) }}
)

select
    call_id,
    incident_number,
    call_received_at,
    call_source,
    _landed_at
from latest
