-- Public: how good the data behind the published numbers is, per quarter. Each indicator is a share
-- of records (numerator / denominator), withheld when either the records it counts or the others
-- number from 1 to var('public_min_cell_size') - 1.
with response_records as (
    select
        period_start,
        case when team = 'police_on_eligible' then 'police' else 'program' end as responder_group,
        incidents_measured + excluded_no_arrival + excluded_no_dispatch as responses,
        excluded_no_arrival + excluded_no_dispatch as responses_missing_a_time
    from {{ ref('mart_response_times') }}
    where period_grain = 'quarter'
),

indicators as (
    select
        period_start,
        'encounters_linked_to_cad' as indicator,
        linked_encounters as numerator,
        encounters as denominator
    from {{ ref('mart_encounter_links') }}
    where period_grain = 'quarter'
    union all
    select
        period_start,
        responder_group || '_responses_missing_a_time',
        cast(sum(responses_missing_a_time) as bigint),
        cast(sum(responses) as bigint)
    from response_records
    group by period_start, responder_group
),

flagged as (
    select
        *,
        {{ few_on_either_side('numerator', 'denominator') }} as is_suppressed
    from indicators
)

select
    period_start,
    indicator,
    case when not is_suppressed then numerator end as numerator,
    case when not is_suppressed then denominator end as denominator,
    case when not is_suppressed then {{ safe_share('numerator', 'denominator') }} end as value,
    is_suppressed
from flagged
