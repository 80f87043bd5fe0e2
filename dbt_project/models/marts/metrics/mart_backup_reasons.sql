-- Why the team asked for help on scene: police backup and EMS requests of in-person encounters by
-- the reason case management recorded (trimmed, lower case; 'not recorded' when empty).
with requests as (
    select
        started_local_date as local_date,
        'police_backup' as request_type,
        coalesce(lower(trim(police_backup_reason)), 'not recorded') as reason
    from {{ ref('fct_encounters') }}
    where is_in_person and police_backup_requested
    union all
    select
        started_local_date,
        'ems',
        coalesce(lower(trim(ems_request_reason)), 'not recorded')
    from {{ ref('fct_encounters') }}
    where is_in_person and ems_requested
),

periods as ({{ by_period('requests', 'local_date') }})

select
    period_grain,
    period_start,
    request_type,
    reason,
    count(*) as requests,
    {{ safe_share('count(*)', 'sum(count(*)) over (partition by period_grain, period_start, request_type)') }}
        as share_of_requests
from periods
group by period_grain, period_start, request_type, reason
