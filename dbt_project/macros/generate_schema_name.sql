{#- Schema names per target. On the pipeline's own DuckDB warehouse (target duckdb, which BI never reads:
    it reads the copy the publish step writes after the quality gate) a model goes to its layer's schema
    as is: reference, staging, intermediate, marts, public_marts. On any other target (a developer's
    build on PostgreSQL, where BI reads the published marts and public_marts schemas) it goes to
    <target schema>_<layer>, e.g. dev_alice_marts, so no dbt build ever writes what BI reads. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif target.name == 'duckdb' -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema | trim }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
