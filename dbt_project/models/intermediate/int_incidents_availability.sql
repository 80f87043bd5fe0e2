-- Was any program field unit (unit_types: is_program and is_field_unit) on shift and not busy when
-- each program-eligible incident came in?
-- On shift: shift_start <= t < shift_end. Busy: an assignment with dispatched_at <= t < cleared_at
-- (an assignment not yet cleared counts as busy).
with eligible as (
    select
        i.incident_number,
        i.received_at
    from {{ ref('stg_cad__incidents') }} as i
    inner join {{ ref('int_incidents_eligibility') }} as e on i.incident_number = e.incident_number
    where e.is_program_eligible
),

on_shift as (
    select
        e.incident_number,
        e.received_at,
        s.unit_id
    from eligible as e
    inner join {{ ref('stg_roster__program_shifts') }} as s
        on e.received_at >= s.shift_start and e.received_at < s.shift_end
    inner join {{ ref('unit_types') }} as t on s.team_type = t.code
    where t.is_program and t.is_field_unit
),

unit_status as (
    select
        o.incident_number,
        o.unit_id,
        exists(
            select 1 from {{ ref('stg_cad__unit_assignments') }} as a
            where a.unit_id = o.unit_id and a.dispatched_at <= o.received_at
                and (a.cleared_at is null or o.received_at < a.cleared_at)
        ) as is_busy
    from on_shift as o
)

select
    e.incident_number,
    count(u.unit_id) as field_units_on_shift,
    coalesce({{ flag_sum("u.is_busy") }}, 0) as field_units_busy,
    {% if is_recorded('program_shifts') -%}
        count(u.unit_id) > coalesce({{ flag_sum("u.is_busy") }}, 0) as is_field_unit_available
    {%- else -%}
    -- the city has no shift roster: availability is unknown, never "no unit available"
        cast(null as boolean) as is_field_unit_available
    {%- endif %}
from eligible as e
left join unit_status as u on e.incident_number = u.incident_number
group by e.incident_number
