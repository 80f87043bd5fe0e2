{{ config(unique_key='arrest_id') }}

with latest as (
    {{ latest_version(source('rms', 'rms_arrests'), ['arrest_id']) }}
)

select
    arrest_id,
    incident_number,
    arrested_at,
    charge_level,
    _landed_at
from latest
