-- Forgone opportunities (eligible, not served) by reason, as share of eligible and of forgone.
-- coverage_view 'current' applies today's hours and area; 'unconstrained' drops those two tests.
with base as (
    select local_date, is_program_eligible, is_served, not_served_reason, not_served_reason_unconstrained
    from {{ ref('fct_incidents') }}
    where is_program_eligible
),

periods as ({{ by_period('base', 'local_date') }}),

totals as (
    select period_grain, period_start, count(*) as eligible_incidents, {{ flag_sum("not is_served") }} as forgone_incidents
    from periods
    group by period_grain, period_start
),

by_reason as (
    select period_grain, period_start, 'current' as coverage_view, not_served_reason as reason, count(*) as n
    from periods where not is_served
    group by period_grain, period_start, not_served_reason
    union all
    select period_grain, period_start, 'unconstrained', not_served_reason_unconstrained, count(*)
    from periods where not is_served
    group by period_grain, period_start, not_served_reason_unconstrained
),

reasons as (
    select reason, coverage_view from (values
        ('outside_hours', 'current'), ('outside_area', 'current'), ('no_unit_available', 'current'),
        ('declined_by_team', 'current'), ('cancelled', 'current'), ('unknown', 'current'),
        ('no_unit_available', 'unconstrained'), ('declined_by_team', 'unconstrained'),
        ('cancelled', 'unconstrained'), ('unknown', 'unconstrained')
    ) as r (reason, coverage_view)
)

select
    t.period_grain,
    t.period_start,
    r.coverage_view,
    r.reason,
    coalesce(b.n, 0) as forgone_incidents,
    t.forgone_incidents as all_forgone_incidents,
    t.eligible_incidents,
    -- without a shift roster no incident can be found short of units: that share is unknown, not 0
    case when r.reason <> 'no_unit_available' or {{ is_recorded('program_shifts') }}
         then {{ safe_share('coalesce(b.n, 0)', 't.eligible_incidents') }} end as share_of_eligible,
    case when r.reason <> 'no_unit_available' or {{ is_recorded('program_shifts') }}
         then {{ safe_share('coalesce(b.n, 0)', 't.forgone_incidents') }} end as share_of_forgone
from totals as t
cross join reasons as r
left join by_reason as b
    on b.period_grain = t.period_grain and b.period_start = t.period_start
   and b.coverage_view = r.coverage_view and b.reason = r.reason
