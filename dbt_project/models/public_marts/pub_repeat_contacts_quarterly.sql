-- Public: repeat 911 contacts at the same place within 30 and 90 days, per quarter, after responses
-- the program gave and after those police gave (see mart_repeat_contacts). Each row stands alone and is
-- withheld when the incidents with a repeat, or those without one, number from 1 to
-- var('public_min_cell_size') - 1. Quarterly only: a repeat is judged over months. Incidents not
-- yet judged stay in the internal mart (a count that is often small).
with flagged as (
    select
        *,
        {{ few_on_either_side('incidents_with_repeat', 'incidents_observed') }} as is_suppressed
    from {{ ref('mart_repeat_contacts') }}
    where period_grain = 'quarter'
)

select
    period_start,
    comparison_group,
    window_days,
    case when not is_suppressed then incidents_observed end as incidents_observed,
    case when not is_suppressed then incidents_with_repeat end as incidents_with_repeat,
    case when not is_suppressed then share_with_repeat end as share_with_repeat,
    is_suppressed
from flagged
