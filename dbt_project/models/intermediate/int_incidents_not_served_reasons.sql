-- One reason for every program-eligible incident the program did not serve: the first that applies.
-- The unconstrained reason drops the hours and area tests (demand beyond today's coverage).
with eligible_unserved as (
    select
        e.incident_number,
        e.is_in_service_hours,
        e.is_in_service_area,
        a.is_field_unit_available,
        coalesce(r.declined_program_assignments, 0) > 0 as was_declined,
        coalesce(i.disposition_code, '') = 'CANCELLED' as was_cancelled
    from {{ ref('int_incidents_eligibility') }} as e
    inner join {{ ref('stg_cad__incidents') }} as i on e.incident_number = i.incident_number
    inner join {{ ref('int_incidents_availability') }} as a on e.incident_number = a.incident_number
    left join {{ ref('int_incidents_unit_responses') }} as r on e.incident_number = r.incident_number
    where e.is_program_eligible and coalesce(r.program_assignments, 0) = 0
)

select
    incident_number,
    case
        when not is_in_service_hours then 'outside_hours'
        when not is_in_service_area then 'outside_area'
        when not is_field_unit_available then 'no_unit_available'
        when was_declined then 'declined_by_team'
        when was_cancelled then 'cancelled'
        else 'unknown'
    end as not_served_reason,
    case
        when not is_field_unit_available then 'no_unit_available'
        when was_declined then 'declined_by_team'
        when was_cancelled then 'cancelled'
        else 'unknown'
    end as not_served_reason_unconstrained
from eligible_unserved
