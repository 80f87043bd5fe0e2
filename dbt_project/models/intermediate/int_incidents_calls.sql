{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_rebuilt_incidents(['stg_cad__calls'], [['stg_cad__calls', 'call_count', false]]) }}"
) }}

-- Calls rolled up to their incident: metrics count incidents, never calls.
-- Incremental: only the incidents whose calls landed since the last build (macros/changed_incidents.sql).
select
    incident_number,
    count(*) as call_count,
    min(call_received_at) as first_call_received_at
from {{ ref('stg_cad__calls') }} as calls
where {{ not_yet_built('calls.incident_number') }}
group by incident_number
