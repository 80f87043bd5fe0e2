-- Public: forgone opportunities per quarter by beat (where to expand), small cells suppressed.
with cells as (
    select
        period_start,
        beat,
        forgone_incidents
    from {{ ref('mart_forgone_by_beat') }}
    where period_grain = 'quarter'
),

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'forgone_incidents', ['beat']) }}

select
    period_start,
    beat,
    case when is_suppressed then null else forgone_incidents end as forgone_incidents,
    is_suppressed
from suppressed
