{{ config(meta={'dagster': {'ref': {'name': 'fct_incidents'}}}) }}
-- Every program-eligible incident the program did not serve has a reason; no other incident has one.
select
    incident_number,
    is_program_eligible,
    is_served,
    not_served_reason
from {{ ref('fct_incidents') }}
where (is_program_eligible and not is_served and (not_served_reason is null or not_served_reason_unconstrained is null))
    or (
        (not is_program_eligible or is_served)
        and (not_served_reason is not null or not_served_reason_unconstrained is not null)
    )
