-- Public: police backup and EMS requests per quarter by the reason recorded, small cells withheld
-- within each request type. A request type whose count pub_backup_requests_quarterly withholds has
-- every reason withheld: the reasons would add up to it.
with cells as (
    select
        r.period_start,
        r.request_type,
        r.reason,
        r.requests,
        coalesce(b.is_suppressed, false) as total_withheld
    from {{ ref('mart_backup_reasons') }} as r
    left join {{ ref('pub_backup_requests_quarterly') }} as b
        on r.period_start = b.period_start and r.request_type = b.request_type
    where r.period_grain = 'quarter'
),

suppressed as {{ suppress_small_cells(
    'cells', ['period_start', 'request_type'], 'requests', ['request_type', 'reason'], also_primary='total_withheld'
) }}

select
    period_start,
    request_type,
    reason,
    case when not is_suppressed then requests end as requests,
    is_suppressed
from suppressed
