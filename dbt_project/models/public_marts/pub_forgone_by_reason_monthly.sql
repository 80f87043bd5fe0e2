-- Public: forgone opportunities per month by not-served reason, small cells suppressed.
with cells as (
    select
        period_start,
        reason,
        forgone_incidents
    from {{ ref('mart_forgone_by_reason') }}
    where period_grain = 'month' and coverage_view = 'current'
),

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'forgone_incidents', ['reason']) }}

select
    period_start,
    reason,
    case when is_suppressed then null else forgone_incidents end as forgone_incidents,
    is_suppressed
from suppressed
