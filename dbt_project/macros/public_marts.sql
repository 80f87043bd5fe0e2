{#- Public marts with more than a column of counts, one macro each so that the monthly and the
    quarterly mart are the same SQL at two grains. A quarterly mart is given its monthly twin
    (monthly) and also suppresses what the months withheld (see unpublished_in_months). -#}

{#- A share's two sides, withheld together: true when the records it counts (part), or the others of
    the whole, number from 1 to var('public_min_cell_size') - 1 (a rate of 9 in 10 tells who did). -#}
{% macro few_on_either_side(part, whole) -%}
    {%- set k = var('public_min_cell_size') -%}
    ({{ part }} between 1 and {{ k - 1 }} or {{ whole }} - {{ part }} between 1 and {{ k - 1 }})
{%- endmacro %}

{#- Program-eligible incidents per period, served or forgone; the share is published only when every
    count of the period is. -#}
{% macro public_eligible_incidents(grain, monthly=none) %}
{%- set k = var('public_min_cell_size') -%}
with cells as (
    select
        period_start,
        'served' as status,
        served_eligible_incidents as incidents
    from {{ ref('mart_eligibility') }}
    where period_grain = '{{ grain }}'
    union all
    select
        period_start,
        'forgone',
        forgone_incidents
    from {{ ref('mart_eligibility') }}
    where period_grain = '{{ grain }}'
),

{%- if monthly %}

checked as {{ unpublished_in_months('cells', monthly, ['status'], 'incidents') }},

suppressed as {{ suppress_small_cells('checked', ['period_start'], 'incidents', ['status'],
                                      also_primary='unpublished_in_months between 1 and ' ~ (k - 1)) }}
{%- else %}

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'incidents', ['status']) }}
{%- endif %}

select
    period_start,
    status,
    case when is_suppressed then null else incidents end as incidents,
    is_suppressed,
    case when max(case when is_suppressed then 1 else 0 end) over (partition by period_start) = 0
            then {{ safe_share('incidents', 'sum(incidents) over (partition by period_start)') }}
    end as share_of_eligible
from suppressed
{% endmacro %}

{#- Response-time statistics per period and team, published only when measured on at least
    var('public_min_cell_size') incidents (a statistic of a few incidents describes those few). -#}
{% macro public_response_times(grain, monthly=none) %}
{%- set k = var('public_min_cell_size') -%}
with cells as (
    select
        r.period_start,
        r.team,
        r.incidents_measured,
        r.mean_minutes,
        r.median_minutes,
        r.p90_minutes,
        {%- if monthly %}
        -- the quarter's mean times its count, minus the published months', gives the withheld
        -- months' mean: the quarter is withheld when the months withheld a few incidents
        r.incidents_measured - coalesce((
            select sum(m.incidents_measured) from {{ monthly }} as m
            where cast(date_trunc('quarter', m.period_start) as date) = r.period_start and m.team = r.team
        ), 0) between 1 and {{ k - 1 }}
        {%- else %}
        false
        {%- endif %} as hides_a_withheld_month
    from {{ ref('mart_response_times') }} as r
    where r.period_grain = '{{ grain }}'
),

flagged as (
    select
        *,
        incidents_measured < {{ k }} or hides_a_withheld_month as is_suppressed
    from cells
)

select
    period_start,
    team,
    is_suppressed,
    case when not is_suppressed then incidents_measured end as incidents_measured,
    case when not is_suppressed then mean_minutes end as mean_minutes,
    case when not is_suppressed then median_minutes end as median_minutes,
    case when not is_suppressed then p90_minutes end as p90_minutes
from flagged
{% endmacro %}

{#- Requests for help per period: police backup and EMS requested on scene (per in-person
    encounter) and police sent at intake alongside the team (per served 911 incident with a team
    sent). Not partitions of one total, so each row stands alone: it is withheld when its requests, or
    the encounters without one, are from 1 to var('public_min_cell_size') - 1 (a rate of 9 in 10
    tells who did). A request the city does not record is null with is_recorded false, never 0. -#}
{% macro public_backup_requests(grain, monthly=none) %}
{%- set k = var('public_min_cell_size') -%}
with backup as (
    select * from {{ ref('mart_backup_requests') }}
    where period_grain = '{{ grain }}'
),

cells as (
    select
        period_start,
        'police_backup' as request_type,
        police_backup_requests as requests,
        in_person_encounters as base_count,
        police_backup_rate as rate,
        {{ is_recorded('cm_encounters.police_backup_requested_at') }} as is_recorded
    from backup
    union all
    select
        period_start,
        'ems',
        ems_requests,
        in_person_encounters,
        ems_request_rate,
        {{ is_recorded('cm_encounters.ems_requested_at') }}
    from backup
    union all
    select
        period_start,
        'concurrent_police_dispatch',
        concurrent_police_dispatches,
        served_911_field_incidents,
        concurrent_police_dispatch_rate,
        true
    from backup
),

{%- if monthly %}

checked as (
    select
        c.*,
        c.requests - coalesce(m.requests, 0) as unpublished_requests,
        c.base_count - coalesce(m.base_count, 0) as unpublished_base
    from cells as c
    left join (
        select
            cast(date_trunc('quarter', period_start) as date) as period_start,
            request_type,
            sum(requests) as requests,
            sum(base_count) as base_count
        from {{ monthly }}
        group by cast(date_trunc('quarter', period_start) as date), request_type
    ) as m on c.period_start = m.period_start and c.request_type = m.request_type
),
{%- else %}

checked as (
    select
        *,
        0 as unpublished_requests,
        0 as unpublished_base
    from cells
),
{%- endif %}

flagged as (
    select
        *,
        is_recorded and (
            {{ few_on_either_side('requests', 'base_count') }}
            or {{ few_on_either_side('unpublished_requests', 'unpublished_base') }}
        ) as is_suppressed
    from checked
)

select
    period_start,
    request_type,
    case when is_recorded and not is_suppressed then requests end as requests,
    case when is_recorded and not is_suppressed then base_count end as base_count,
    case when is_recorded and not is_suppressed then rate end as rate,
    is_recorded,
    is_suppressed
from flagged
{% endmacro %}
