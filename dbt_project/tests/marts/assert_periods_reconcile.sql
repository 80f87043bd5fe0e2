{{ config(meta={'dagster': {'ref': {'name': 'mart_eligibility'}}}) }}
-- Counts summed over days, weeks, months and quarters equal the whole-history ('all') count.
select
    period_grain,
    sum(eligible_incidents) as eligible,
    sum(served_eligible_incidents) as served
from {{ ref('mart_eligibility') }}
group by period_grain
having sum(eligible_incidents)
    <> (
        select eligible_incidents from {{ ref('mart_eligibility') }}
        where period_grain = 'all'
    )
    or sum(served_eligible_incidents)
    <> (
        select served_eligible_incidents from {{ ref('mart_eligibility') }}
        where period_grain = 'all'
    )
