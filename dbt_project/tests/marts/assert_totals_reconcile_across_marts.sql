{{ config(meta={'dagster': {'ref': {'name': 'mart_eligibility'}}}) }}
-- The same count reached through different marts is the same number, in every period.
-- (Forgone by reason is reconciled in assert_forgone_reasons_add_up.)
{#- reconciliation, (mart, count column) on each side, and the filter that selects the other side's rows -#}
{%- set reconciliations = [
    ('incident volume = eligibility incidents',
     'mart_eligibility', 'incidents', 'mart_incident_volume', 'incidents', 'true'),
    ('forgone by beat = eligibility forgone',
     'mart_eligibility', 'forgone_incidents', 'mart_forgone_by_beat', 'forgone_incidents', 'true'),
    ('forgone by weekday-hour = eligibility forgone',
     'mart_eligibility', 'forgone_incidents', 'mart_forgone_by_weekday_hour', 'forgone_incidents', 'true'),
    ('police time served = comparative served',
     'mart_police_time_saved', 'served_eligible_911_incidents', 'mart_comparative_outcomes', 'incidents',
     "comparison_group = 'served'"),
    ('follow-ups served = referrals served',
     'mart_follow_ups', 'served_incidents', 'mart_referrals', 'served_incidents', "referral_type = 'any'"),
] %}

with
{%- for label, mart, total, other_mart, other_total, other_filter in reconciliations %}
    other_side_{{ loop.index }} as (
        select
            period_grain,
            period_start,
            sum({{ other_total }}) as total
        from {{ ref(other_mart) }}
        where {{ other_filter }}
        group by period_grain, period_start
    ),
{%- endfor %}

differences as (
    {%- for label, mart, total, other_mart, other_total, other_filter in reconciliations %}
        select
            '{{ label }}' as reconciliation,
            m.period_grain,
            m.period_start,
            m.{{ total }} - coalesce(o.total, 0) as difference
        from {{ ref(mart) }} as m
        left join other_side_{{ loop.index }} as o
            on m.period_grain = o.period_grain and m.period_start = o.period_start
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from differences
where difference <> 0
