{#- Use the configured schema name as is (reference, staging, marts...), not <target>_<schema>:
    BI users and analysts see stable schema names on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
