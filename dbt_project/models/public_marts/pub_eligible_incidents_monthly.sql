-- Public: program-eligible incidents per month, served or forgone, small cells suppressed. The share
-- served is published only when both of its counts are.
with cells as (
    select
        period_start,
        'served' as status,
        served_eligible_incidents as incidents
    from {{ ref('mart_eligibility') }}
    where period_grain = 'month'
    union all
    select
        period_start,
        'forgone',
        forgone_incidents
    from {{ ref('mart_eligibility') }}
    where period_grain = 'month'
),

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'incidents', ['status']) }}

select
    period_start,
    status,
    case when is_suppressed then null else incidents end as incidents,
    is_suppressed,
    case when max(case when is_suppressed then 1 else 0 end) over (partition by period_start) = 0
            then {{ safe_share('incidents', 'sum(incidents) over (partition by period_start)') }}
    end as share_of_eligible
from suppressed
