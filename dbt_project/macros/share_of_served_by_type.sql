{#- Share of served incidents (with a linked encounter) having at least one detail row of each type,
    plus an 'any' row. Used for referrals by type and transports by destination.
    detail: the staging relation with encounter_id and the type column; has_any: the fct_incidents
    flag for "at least one"; counted_as: the name of the count column. -#}
{% macro share_of_served_by_type(detail, type_column, has_any, counted_as) %}
with served as (
    select incident_number, local_date, {{ has_any }} as has_any
    from {{ ref('fct_incidents') }}
    where is_served and encounter_id is not null
),

typed as (
    select distinct s.incident_number, d.{{ type_column }}
    from served as s
    inner join {{ ref('fct_encounters') }} as e on e.incident_number = s.incident_number and e.is_linked
    inner join {{ detail }} as d on d.encounter_id = e.encounter_id
),

base as (
    select s.local_date, s.incident_number, 'any' as {{ type_column }}, s.has_any as has_type
    from served as s
    union all
    select s.local_date, s.incident_number, t.{{ type_column }}, true
    from served as s
    inner join typed as t on t.incident_number = s.incident_number
),

periods as ({{ by_period('base', 'local_date') }}),

denominators as (
    select period_grain, period_start, count(*) as served_incidents
    from periods where {{ type_column }} = 'any'
    group by period_grain, period_start
)

select
    p.period_grain,
    p.period_start,
    p.{{ type_column }},
    {{ flag_sum("p.has_type") }} as {{ counted_as }},
    d.served_incidents,
    {{ if_recorded(detail.identifier | replace('stg_case_management__', 'cm_'),
                   safe_share(flag_sum("p.has_type"), "d.served_incidents")) }} as share_of_served
from periods as p
inner join denominators as d on d.period_grain = p.period_grain and d.period_start = p.period_start
group by p.period_grain, p.period_start, p.{{ type_column }}, d.served_incidents
{% endmacro %}
