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

field_shifts as (
    select
        s.unit_id,
        s.shift_start,
        s.shift_end
    from {{ ref('stg_roster__program_shifts') }} as s
    inner join {{ ref('unit_types') }} as t on s.team = t.code
    where t.is_program and t.is_field_unit
        and s.unit_id is not null
        and s.shift_end > s.shift_start  -- a shift ending before it starts covers no moment
),

field_units as (
    select distinct unit_id from field_shifts
),

-- Each unit's timeline, in one ordered pass per unit (comparing every incident with every shift and
-- assignment of its unit took most of a ten-year build). At the moment t of an incident:
-- shifts on = shifts started at or before t minus shifts ended at or before t;
-- busy = the latest clearing among assignments dispatched at or before t is after t (an assignment
-- never cleared stays busy). At equal times shift and assignment events come first: they count at t.
unit_events as (
    select
        unit_id,
        shift_start as event_at,
        0 as is_incident,
        1 as shift_change,
        cast(null as timestamp) as busy_until,
        cast(null as varchar) as incident_number
    from field_shifts
    union all
    select
        unit_id,
        shift_end as event_at,
        0 as is_incident,
        -1 as shift_change,
        cast(null as timestamp) as busy_until,
        cast(null as varchar) as incident_number
    from field_shifts
    union all
    select
        a.unit_id,
        a.dispatched_at as event_at,
        0 as is_incident,
        0 as shift_change,
        coalesce(a.cleared_at, cast('9999-12-31 00:00:00' as timestamp)) as busy_until,
        cast(null as varchar) as incident_number
    from {{ ref('stg_cad__unit_assignments') }} as a
    where a.dispatched_at is not null and a.unit_id in (select u.unit_id from field_units as u)
    union all
    select
        u.unit_id,
        e.received_at as event_at,
        1 as is_incident,
        0 as shift_change,
        cast(null as timestamp) as busy_until,
        e.incident_number
    from eligible as e
    cross join field_units as u
    where e.received_at is not null
),

unit_timeline as (
    select
        incident_number,
        event_at,
        is_incident,
        sum(shift_change) over unit_so_far as shifts_on,
        max(busy_until) over unit_so_far as latest_busy_until
    from unit_events
    window unit_so_far as (
        partition by unit_id order by event_at, is_incident
        rows between unbounded preceding and current row
    )
),

-- one row per (incident, unit on shift); shifts_on > 1 only when a roster overlaps a unit's shifts
unit_status as (
    select
        incident_number,
        cast(shifts_on as bigint) as shifts_on,
        coalesce(latest_busy_until > event_at, false) as is_busy
    from unit_timeline
    where is_incident = 1 and shifts_on > 0
)

select
    e.incident_number,
    coalesce(cast(sum(u.shifts_on) as bigint), 0) as field_units_on_shift,
    coalesce(cast(sum(case when u.is_busy then u.shifts_on else 0 end) as bigint), 0) as field_units_busy,
    {% if is_recorded('program_shifts') -%}
        coalesce(sum(u.shifts_on), 0) > coalesce(sum(case when u.is_busy then u.shifts_on else 0 end), 0)
            as is_field_unit_available
    {%- else -%}
    -- the city has no shift roster: availability is unknown, never "no unit available"
        cast(null as boolean) as is_field_unit_available
    {%- endif %}
from eligible as e
left join unit_status as u on e.incident_number = u.incident_number
group by e.incident_number
