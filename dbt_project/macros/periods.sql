{#- Every metric mart is published per period: day, week (starting Monday), month, quarter, and "all"
    (the whole loaded history, starting at its first date). by_period() repeats each row of a CTE once
    per grain with the start of the period its date falls in; marts then group by the two columns.
    The list is var period_grains (dbt_project.yml), which each mart's contract also checks period_grain
    against. -#}
{% macro period_grains() -%}
    {{ return(var('period_grains')) }}
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
