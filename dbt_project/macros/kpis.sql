{#- One grain of mart_kpis, for the per-grain KPI tables BI reads: a grain filter nobody can forget. The
    whole-history grain ('all') has no period axis: its date says where the history begins. -#}
{% macro kpis_at_grain(grain) -%}
select
    metric,
    {% if grain == 'all' -%} period_start as first_local_date, {%- else -%} period_start, {%- endif %}
    dimension,
    dimension_value,
    numerator,
    denominator,
    value,
    source_mart,
    value_note,
    unit,
    value_format,
    label,
    label_es
from {{ ref('mart_kpis') }}
where period_grain = '{{ grain }}'
{%- endmacro %}
