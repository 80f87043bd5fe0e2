-- Public: primary outcomes of served incidents per month, small cells suppressed.
with cells as (
    select
        period_start,
        primary_outcome,
        incidents
    from {{ ref('mart_outcomes') }}
    where period_grain = 'month'
),

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'incidents', ['primary_outcome']) }}

select
    period_start,
    primary_outcome,
    case when is_suppressed then null else incidents end as incidents,
    is_suppressed
from suppressed
