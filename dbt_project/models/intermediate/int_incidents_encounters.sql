-- The program's case-management encounters rolled up to the incident they are linked to: the first
-- encounter (by start) names the outcome; any encounter counts for referrals, transports and follow-ups.
with linked_encounters as (
    select
        e.*,
        row_number() over (partition by e.incident_number order by e.started_at, e.encounter_id) as encounter_order
    from {{ ref('int_encounters_linked') }} as e
    where e.is_linked
)

select
    incident_number,
    max(case when encounter_order = 1 then encounter_id end) as encounter_id,
    max(case when encounter_order = 1 then primary_outcome end) as primary_outcome,
    max({{ flag("referral_count > 0") }}) = 1 as has_referral,
    max({{ flag("transport_count > 0") }}) = 1 as has_program_transport,
    max({{ flag("follow_up_count > 0") }}) = 1 as has_follow_up,
    max({{ flag("is_followed_up_within_window") }}) = 1 as has_follow_up_within_window
from linked_encounters
group by incident_number
