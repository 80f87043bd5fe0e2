-- Calls rolled up to their incident: metrics count incidents, never calls.
select
    incident_number,
    count(*) as call_count,
    min(call_received_at) as first_call_received_at
from {{ ref('stg_cad__calls') }}
group by incident_number
