{{ config(unique_key='transport_id') }}

with latest as (
    {{ latest_version(source('case_management', 'cm_transports'), ['transport_id']) }}
)

select
    transport_id,
    encounter_id,
    destination_type,
    transported_at,
    _landed_at
from latest
