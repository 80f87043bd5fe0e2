-- Public: forgone opportunities per quarter by not-served reason within beat, small cells withheld.
-- Both margins are published (beat totals in pub_forgone_by_beat_quarterly, reason totals in
-- pub_forgone_by_reason_quarterly), so a withheld cell never stands alone in its beat or in its
-- reason (macro suppress_two_ways).
with cells as (
    select
        period_start,
        beat,
        reason,
        forgone_incidents
    from {{ ref('mart_forgone_by_reason_beat') }}
    where period_grain = 'quarter'
),

suppressed as {{ suppress_two_ways('cells', 'beat', 'reason', 'forgone_incidents') }}

select
    period_start,
    beat,
    reason,
    case when not is_suppressed then forgone_incidents end as forgone_incidents,
    is_suppressed
from suppressed
