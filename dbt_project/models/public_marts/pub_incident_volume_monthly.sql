-- Public: incidents per month by call origin and serving team, small cells suppressed.
with cells as (
    select
        period_start,
        call_origin,
        served_by_team,
        incidents
    from {{ ref('mart_incident_volume') }}
    where period_grain = 'month'
),

suppressed as {{ suppress_small_cells('cells', ['period_start'], 'incidents', ['call_origin', 'served_by_team']) }}

select
    period_start,
    call_origin,
    served_by_team,
    case when is_suppressed then null else incidents end as incidents,
    is_suppressed
from suppressed
