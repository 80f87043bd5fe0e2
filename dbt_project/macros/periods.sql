{#- Every metric mart is published per period: day, week (starting Monday), month, quarter, and "all"
    (the whole loaded history, starting at its first date). by_period() repeats each row of a CTE once
    per grain with the start of the period its date falls in; marts then group by the two columns.
    Each mart's contract spells the same list in a check constraint on period_grain: a new grain goes
    there too (grep "period_grain in"). -#}
{% macro period_grains() -%}
    {{ return(['day', 'week', 'month', 'quarter', 'all']) }}
{%- endmacro %}

{% macro by_period(cte, date_column) -%}
    {%- for grain in period_grains() %}
    select
        '{{ grain }}' as period_grain,
        {% if grain == 'day' -%} cast({{ date_column }} as date)
        {%- elif grain == 'all' -%} (select min({{ date_column }}) from {{ cte }})
        {%- else -%} cast(date_trunc('{{ grain }}', {{ date_column }}) as date)
        {%- endif %} as period_start,
        {{ cte }}.*
    from {{ cte }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
