-- Eligibility funnel and share of eligible incidents served.
with base as (select * from {{ ref('fct_incidents') }}),

periods as ({{ by_period('base', 'local_date') }})

select
    period_grain,
    period_start,
    max(risk_screen_source) as risk_screen_source,
    count(*) as incidents,
    {{ flag_sum("is_calltype_eligible") }} as calltype_eligible_incidents,
    {{ flag_sum("is_screen_eligible") }} as screen_eligible_incidents,
    {{ flag_sum("not is_screen_eligible") }} as screen_failed_incidents,
    {{ flag_sum("is_screen_eligible is null") }} as not_triaged_incidents,
    {{ flag_sum("is_not_triaged") }} as calltype_eligible_not_triaged_incidents,
    {{ flag_sum("is_program_eligible") }} as eligible_incidents,
    {{ flag_sum("is_program_eligible and is_in_service_area") }} as eligible_in_service_area,
    {{ flag_sum("is_program_eligible and is_in_service_hours") }} as eligible_in_service_hours,
    {{ flag_sum("is_served") }} as served_incidents,
    {{ flag_sum("is_program_eligible and is_served") }} as served_eligible_incidents,
    {{ flag_sum("is_program_eligible and not is_served") }} as forgone_incidents,
    {{ safe_share(flag_sum("is_program_eligible and is_served"), flag_sum("is_program_eligible")) }}
        as share_of_eligible_served,
    {{ safe_share(flag_sum("is_program_eligible and not is_served"), flag_sum("is_program_eligible")) }}
        as share_of_eligible_forgone
from periods
group by period_grain, period_start
