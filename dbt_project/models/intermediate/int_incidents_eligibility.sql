{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_rebuilt_incidents(['stg_cad__incidents']) }}"
) }}

-- The three eligibility flags, judged with the rules in force at the incident's local date and time.
-- Codes are compared in one normal form on both sides (normalize_code); the risk screen comes from
-- the program's rule (var risk_screen: CAD flags, priority, the call-type list itself, or none).
-- Incremental: only incidents landed since the last build (macros/changed_incidents.sql); a changed
-- rule is a full refresh.
with incidents as (
    select
        incident_number,
        call_type,
        beat,
        weapon_involved,
        violence_in_progress,
        medical_need,
        priority,
        cast(received_at_local as date) as local_date,
        cast(received_at_local as time) as local_time,
        cast(extract(isodow from received_at_local) as integer) as iso_day_of_week
    from {{ ref('stg_cad__incidents') }} as incidents
    where {{ not_yet_built('incidents.incident_number') }}
),

flagged as (
    select
        i.incident_number,
        exists(
            select 1 from {{ ref('eligible_call_types') }} as e
            where e.program = '{{ var("program") }}' and {{ normalize_code('e.call_type') }} = i.call_type
                and i.local_date >= e.valid_from and (e.valid_to is null or i.local_date <= e.valid_to)
        ) as is_calltype_eligible,
        -- cad_flags: false if any risk flag is raised; null (not triaged) if none is raised but one
        -- is unrecorded. priority: null when the priority is missing.
        {{ risk_screen_passes('i.weapon_involved', 'i.violence_in_progress', 'i.medical_need', 'i.priority') }}
            as is_screen_eligible,
        exists(
            select 1 from {{ ref('service_area_beats') }} as b
            where b.program = '{{ var("program") }}' and {{ normalize_code('b.beat') }} = i.beat
                and i.local_date >= b.valid_from and (b.valid_to is null or i.local_date <= b.valid_to)
        ) as is_in_service_area,
        exists(
            select 1 from {{ ref('operating_hours') }} as h
            where h.program = '{{ var("program") }}' and h.day_of_week = i.iso_day_of_week
                and i.local_time >= h.start_time and i.local_time < h.end_time
                and i.local_date >= h.valid_from and (h.valid_to is null or i.local_date <= h.valid_to)
        ) as is_in_service_hours
    from incidents as i
)

select
    *,
    cast('{{ var("risk_screen") }}' as varchar) as risk_screen_source,
    {% if var('risk_screen') == 'not_available' -%}
    -- no screen exists: eligibility is by call type alone, and nothing is "not triaged"
        is_calltype_eligible as is_program_eligible,
        false as is_not_triaged
    {%- else -%}
        is_calltype_eligible and coalesce(is_screen_eligible, false) as is_program_eligible,
        is_calltype_eligible and is_screen_eligible is null as is_not_triaged
    {%- endif %}
from flagged
