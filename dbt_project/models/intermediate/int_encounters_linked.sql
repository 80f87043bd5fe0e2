-- Encounters with their CAD link resolved and their referrals, transports and follow-ups rolled up.
with referrals as (
    select
        encounter_id,
        count(*) as referral_count
    from {{ ref('stg_case_management__referrals') }}
    group by encounter_id
),

transports as (
    select
        encounter_id,
        count(*) as transport_count
    from {{ ref('stg_case_management__transports') }}
    group by encounter_id
),

follow_ups as (
    select
        encounter_id,
        count(*) as follow_up_count,
        min(followed_up_at) as first_followed_up_at
    from {{ ref('stg_case_management__follow_ups') }}
    group by encounter_id
)

select
    e.encounter_id,
    e.incident_number,
    i.incident_number is not null as is_linked,
    e.person_key,
    e.team,
    e.call_origin,
    e.started_at,
    cast({{ to_local('e.started_at') }} as date) as started_local_date,
    e.ended_at,
    e.primary_outcome,
    coalesce(unit_type.is_program and unit_type.is_field_unit, false)
    and coalesce(e.primary_outcome, '') <> 'cancelled_en_route' as is_in_person,
    e.responder_felt_safe,
    e.police_backup_requested_at is not null as police_backup_requested,
    e.police_backup_reason,
    e.ems_requested_at is not null as ems_requested,
    e.ems_request_reason,
    coalesce(r.referral_count, 0) as referral_count,
    coalesce(t.transport_count, 0) as transport_count,
    coalesce(f.follow_up_count, 0) as follow_up_count,
    f.first_followed_up_at,
    f.first_followed_up_at is not null and e.ended_at is not null
    and {{ minutes_between('e.ended_at', 'f.first_followed_up_at') }} <= {{ var('follow_up_window_hours') }} * 60
        as is_followed_up_within_window,
    -- the record's last change came long after the encounter: figures published before it were incomplete
    e.updated_at is not null
    and {{ minutes_between('coalesce(e.ended_at, e.started_at)', 'e.updated_at') }} > {{ var('late_entry_hours') }} * 60
        as is_entered_late
from {{ ref('stg_case_management__encounters') }} as e
left join {{ ref('stg_cad__incidents') }} as i on e.incident_number = i.incident_number
left join {{ ref('unit_types') }} as unit_type on e.team = unit_type.code
left join referrals as r on e.encounter_id = r.encounter_id
left join transports as t on e.encounter_id = t.encounter_id
left join follow_ups as f on e.encounter_id = f.encounter_id
