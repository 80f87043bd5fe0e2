-- Forgone opportunities (eligible, not served) by reason, as share of eligible and of forgone.
-- coverage_view 'current' applies today's hours and area; 'unconstrained' drops those two tests.
with base as (
    select
        local_date,
        is_program_eligible,
        is_served,
        not_served_reason,
        not_served_reason_unconstrained
    from {{ ref('fct_incidents') }}
    where is_program_eligible
),

periods as ({{ by_period('base', 'local_date') }}),

totals as (
    select
        period_grain,
        period_start,
        count(*) as eligible_incidents,
        {{ flag_sum("not is_served") }} as forgone_incidents
    from periods
    group by period_grain, period_start
),

by_reason as (
    select
        period_grain,
        period_start,
        'current' as coverage_view,
        not_served_reason as reason,
        count(*) as n
    from periods
    where not is_served
    group by period_grain, period_start, not_served_reason
    union all
    select
        period_grain,
        period_start,
        'unconstrained',
        not_served_reason_unconstrained,
        count(*)
    from periods
    where not is_served
    group by period_grain, period_start, not_served_reason_unconstrained
),

reasons as (
    -- every reason in every period, zero when none: the codes come from the not_served_reasons seed;
    -- the unconstrained view drops the coverage reasons (hours and area)
    select
        code as reason,
        'current' as coverage_view
    from {{ ref('not_served_reasons') }}
    union all
    select
        code,
        'unconstrained'
    from {{ ref('not_served_reasons') }}
    where not is_coverage_reason
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
            then {{ safe_share('coalesce(b.n, 0)', 't.eligible_incidents') }}
    end as share_of_eligible,
    case when r.reason <> 'no_unit_available' or {{ is_recorded('program_shifts') }}
            then {{ safe_share('coalesce(b.n, 0)', 't.forgone_incidents') }}
    end as share_of_forgone
from totals as t
cross join reasons as r
left join by_reason as b
    on t.period_grain = b.period_grain and t.period_start = b.period_start
        and r.coverage_view = b.coverage_view and r.reason = b.reason
