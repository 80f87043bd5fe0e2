{{ config(meta={'dagster': {'ref': {'name': 'fct_incidents'}}}) }}
-- The three eligibility flags agree with each other (docs/metrics.md): program-eligible means call type
-- eligible and screen passed (call type alone where the program has no risk screen); not triaged means
-- call type eligible with no screen answer.
select
    incident_number,
    is_calltype_eligible,
    is_screen_eligible,
    is_not_triaged,
    is_program_eligible,
    risk_screen_source
from {{ ref('fct_incidents') }}
where is_program_eligible <> (
        is_calltype_eligible and (risk_screen_source = 'not_available' or coalesce(is_screen_eligible, false))
    )
    or is_not_triaged <> (
        is_calltype_eligible and is_screen_eligible is null and risk_screen_source <> 'not_available'
    )
