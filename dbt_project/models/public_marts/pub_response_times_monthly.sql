-- Public: response-time statistics per month and team, published only when measured on at
-- least var('public_min_cell_size') incidents (a statistic of a few incidents describes those few).
select
    period_start,
    team,
    incidents_measured < {{ var('public_min_cell_size') }} as is_suppressed,
    case when incidents_measured >= {{ var('public_min_cell_size') }} then incidents_measured end as incidents_measured,
    case when incidents_measured >= {{ var('public_min_cell_size') }} then mean_minutes end as mean_minutes,
    case when incidents_measured >= {{ var('public_min_cell_size') }} then median_minutes end as median_minutes,
    case when incidents_measured >= {{ var('public_min_cell_size') }} then p90_minutes end as p90_minutes
from {{ ref('mart_response_times') }}
where period_grain = 'month'
