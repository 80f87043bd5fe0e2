{{ config(unique_key='assignment_id') }}

with latest as (
    {{ latest_version(source('cad', 'cad_unit_assignments'), ['assignment_id']) }}
)

select
    assignment_id,
    incident_number,
    unit_id,
    unit_type,
    dispatched_at,
    en_route_at,
    arrived_at,
    transported_at,
    cleared_at,
    unit_disposition,
    _landed_at
from latest
