-- Public: how good the data behind the published numbers is, per quarter (see mart_data_quality).
-- Each indicator is a share of records (numerator / denominator), withheld when either the records it
-- counts or the others number from 1 to var('public_min_cell_size') - 1. The rows-quarantined
-- indicator counts rows of files, not people, but is withheld by the same rule: a quarantined row can
-- be one person's record.
with flagged as (
    select
        period_start,
        indicator,
        numerator,
        denominator,
        is_recorded,
        coalesce({{ few_on_either_side('numerator', 'denominator') }}, false) as is_suppressed
    from {{ ref('mart_data_quality') }}
    where period_grain = 'quarter'
)

select
    period_start,
    indicator,
    case when not is_suppressed then numerator end as numerator,
    case when not is_suppressed then denominator end as denominator,
    case when not is_suppressed then {{ safe_share('numerator', 'denominator') }} end as value,
    is_suppressed,
    is_recorded
from flagged
