-- How good the data behind the other marts is: each indicator is a share of records (numerator /
-- denominator) per period. Response times and police time saved leave out responses missing a time, so
-- these shares say how much of the picture those figures stand on. Counted per day first, then per
-- period (a row per day, not per incident, is repeated across the grains).
with incident_days as (
    select
        local_date,
        sum(program_field_assignments - program_field_assignments_cleared) as program_missing,
        sum(program_field_assignments) as program_assignments,
        sum(police_assignments - police_assignments_cleared) as police_missing,
        sum(police_assignments) as police_assignments
    from {{ ref('fct_incidents') }}
    group by local_date
),

encounter_days as (
    select
        started_local_date as local_date,
        {{ flag_sum('is_entered_late') }} as entered_late,
        count(*) as encounters
    from {{ ref('fct_encounters') }}
    group by started_local_date
),

file_days as (
    select
        extracted_local_date as local_date,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_read) as rows_read
    from {{ ref('stg_landing__files') }}
    group by extracted_local_date
),

incident_periods as ({{ by_period('incident_days', 'local_date') }}),

encounter_periods as ({{ by_period('encounter_days', 'local_date') }}),

file_periods as ({{ by_period('file_days', 'local_date') }}),

indicators as (
    select
        period_grain,
        period_start,
        'program_assignments_missing_a_clear_time' as indicator,
        sum(program_missing) as numerator,
        sum(program_assignments) as denominator
    from incident_periods
    group by period_grain, period_start
    union all
    select
        period_grain,
        period_start,
        'police_assignments_missing_a_clear_time',
        sum(police_missing),
        sum(police_assignments)
    from incident_periods
    group by period_grain, period_start
    union all
    select
        period_grain,
        period_start,
        case when team = 'police_on_eligible' then 'police' else 'program' end || '_responses_missing_a_time',
        sum(excluded_no_arrival + excluded_no_dispatch),
        sum(incidents_measured + excluded_no_arrival + excluded_no_dispatch)
    from {{ ref('mart_response_times') }}
    group by period_grain, period_start, case when team = 'police_on_eligible' then 'police' else 'program' end
    union all
    select
        period_grain,
        period_start,
        'encounters_linked_to_cad',
        linked_encounters,
        encounters
    from {{ ref('mart_encounter_links') }}  -- the link rate has one definition
    union all
    select
        period_grain,
        period_start,
        'encounters_entered_late',
        sum(entered_late),
        sum(encounters)
    from encounter_periods
    group by period_grain, period_start
    union all
    select
        period_grain,
        period_start,
        'rows_quarantined',
        sum(rows_quarantined),
        sum(rows_read)
    from file_periods
    group by period_grain, period_start
),

-- an indicator built on an input the city does not record (city.yml not_recorded) is null, never 0
recorded as (
    select
        *,
        case
            when indicator = 'encounters_entered_late' then {{ is_recorded('cm_encounters.updated_at') }}
            when indicator like '%assignments_missing_a_clear_time'
                then {{ is_recorded('cad_unit_assignments.cleared_at') }}
            else true
        end as is_recorded
    from indicators
)

select
    period_grain,
    period_start,
    indicator,
    case when is_recorded then cast(numerator as bigint) end as numerator,
    cast(denominator as bigint) as denominator,
    case when is_recorded then {{ safe_share('numerator', 'denominator') }} end as value,
    is_recorded
from recorded
