-- One row per program encounter (case management), pseudonymized.
select
    encounter_id,
    incident_number,
    is_linked,
    person_key,
    team,
    call_origin,
    started_at as started_at_utc,
    started_local_date,
    ended_at as ended_at_utc,
    primary_outcome,
    is_in_person,
    responder_felt_safe,
    police_backup_requested,
    police_backup_reason,
    ems_requested,
    ems_request_reason,
    referral_count,
    transport_count,
    follow_up_count,
    first_followed_up_at as first_followed_up_at_utc,
    is_followed_up_within_window
from {{ ref('int_encounters_linked') }}
