{{ config(meta={'dagster': {'ref': {'name': 'stg_case_management__encounters'}}}) }}
-- An encounter is the program's own work: its team is a program team (seed unit_types, is_program).
select
    e.encounter_id,
    e.team
from {{ ref('stg_case_management__encounters') }} as e
left join {{ ref('unit_types') }} as t on e.team = t.code
where not coalesce(t.is_program, false)
