{{ config(meta={'dagster': {'ref': {'name': 'mart_forgone_by_reason'}}}) }}
-- Forgone counts by reason add up to all forgone incidents, in every period and coverage view,
-- and agree with the eligibility mart.
select
    r.period_grain,
    r.period_start,
    r.coverage_view,
    sum(r.forgone_incidents) as by_reason,
    max(r.all_forgone_incidents) as all_forgone,
    max(e.forgone_incidents) as in_eligibility_mart
from {{ ref('mart_forgone_by_reason') }} as r
inner join {{ ref('mart_eligibility') }} as e on r.period_grain = e.period_grain and r.period_start = e.period_start
group by r.period_grain, r.period_start, r.coverage_view
having sum(r.forgone_incidents) <> max(r.all_forgone_incidents)
    or max(r.all_forgone_incidents) <> max(e.forgone_incidents)
