{#- Small cross-database helpers: every model must run on DuckDB and PostgreSQL. -#}

{#- A UTC timestamp (stored naive) as local wall-clock time in the city's zone. Same SQL on both. -#}
{% macro to_local(ts) -%}
    (({{ ts }}) at time zone 'UTC') at time zone '{{ var("city_tz") }}'
{%- endmacro %}

{#- Minutes between two timestamps, fractional. -#}
{% macro minutes_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 60.0)
{%- endmacro %}

{#- Hex SHA-256 of a text expression. -#}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'alt911')(expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(expr) -%} sha256({{ expr }}) {%- endmacro %}
{% macro postgres__sha256_hex(expr) -%} encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex') {%- endmacro %}

{#- 1 when a boolean is true, else 0 (sum() of booleans differs between databases). -#}
{% macro flag(condition) -%} (case when {{ condition }} then 1 else 0 end) {%- endmacro %}

{#- A ratio that is null, not an error, when the denominator is zero. -#}
{% macro safe_share(numerator, denominator) -%}
    (cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- Number of rows where a condition holds. -#}
{% macro flag_sum(condition) -%} cast(sum({{ flag(condition) }}) as bigint) {%- endmacro %}
