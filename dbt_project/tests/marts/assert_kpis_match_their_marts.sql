{{ config(meta={'dagster': {'ref': {'name': 'mart_kpis'}}}) }}
-- The KPI table repeats the marts; spot-check the headline share against its mart.
select k.period_grain, k.period_start, k.value, e.share_of_eligible_served
from {{ ref('mart_kpis') }} as k
inner join {{ ref('mart_eligibility') }} as e on e.period_grain = k.period_grain and e.period_start = k.period_start
where k.metric = 'share_of_eligible_served'
  and (k.value <> e.share_of_eligible_served or k.numerator <> e.served_eligible_incidents
       or k.denominator <> e.eligible_incidents)
