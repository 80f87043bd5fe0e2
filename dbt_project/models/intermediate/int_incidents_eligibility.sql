-- The three eligibility flags, judged with the rules in force at the incident's local date and time.
with incidents as (
    select
        incident_number,
        call_type,
        beat,
        weapon_involved,
        violence_in_progress,
        medical_need,
        cast(received_at_local as date) as local_date,
        cast(received_at_local as time) as local_time,
        cast(extract(isodow from received_at_local) as integer) as iso_day_of_week
    from {{ ref('stg_cad__incidents') }}
),

flagged as (
    select
        i.incident_number,
        exists (
            select 1 from {{ ref('eligible_call_types') }} as e
            where e.program = '{{ var("program") }}' and e.call_type = i.call_type
              and i.local_date >= e.valid_from and (e.valid_to is null or i.local_date <= e.valid_to)
        ) as is_calltype_eligible,
        -- false if any risk flag is raised; null (not triaged) if none is raised but one is unrecorded
        not (i.weapon_involved or i.violence_in_progress or i.medical_need) as is_screen_eligible,
        exists (
            select 1 from {{ ref('service_area_beats') }} as b
            where b.program = '{{ var("program") }}' and b.beat = i.beat
              and i.local_date >= b.valid_from and (b.valid_to is null or i.local_date <= b.valid_to)
        ) as is_in_service_area,
        exists (
            select 1 from {{ ref('operating_hours') }} as h
            where h.program = '{{ var("program") }}' and h.day_of_week = i.iso_day_of_week
              and i.local_time >= h.start_time and i.local_time < h.end_time
              and i.local_date >= h.valid_from and (h.valid_to is null or i.local_date <= h.valid_to)
        ) as is_in_service_hours
    from incidents as i
)

select
    *,
    is_calltype_eligible and coalesce(is_screen_eligible, false) as is_program_eligible,
    is_calltype_eligible and is_screen_eligible is null as is_not_triaged
from flagged
