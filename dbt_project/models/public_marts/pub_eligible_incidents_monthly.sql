-- Public: program-eligible incidents per month, served or forgone, small cells suppressed. The share
-- served is published only when both of its counts are.
with cells as (
    select
        period_start as month,
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

suppressed as {{ suppress_small_cells('cells', ['month'], 'incidents', ['status']) }}

select
    month,
    status,
    case when is_suppressed then null else incidents end as incidents,
    is_suppressed,
    case when max(case when is_suppressed then 1 else 0 end) over (partition by month) = 0
            then {{ safe_share('incidents', 'sum(incidents) over (partition by month)') }}
    end as share_of_eligible
from suppressed
