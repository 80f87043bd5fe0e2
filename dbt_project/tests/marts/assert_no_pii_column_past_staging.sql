{{ config(meta={'dagster': {'ref': {'name': 'fct_encounters'}}}) }}
-- Privacy: no column tagged pii in the sources (names, birth dates, phones, addresses, narratives, raw
-- person ids; orchestration/contract/extracts.yml marks them) exists in any model: staging drops them,
-- or replaces the person id with a keyed hash. Fails too if no source column carries the tag.
{%- set pii_columns = [] %}
{%- set model_schemas = [] %}
{%- if execute %}
{%- for node in graph.nodes.values() if node.resource_type == 'model' %}
{%- do model_schemas.append(node.schema) %}
{%- endfor %}
{%- for source in graph.sources.values() %}
{%- for column in source.columns.values() %}
{%- if 'pii' in (column.tags or []) or 'pii' in (column.config.tags or []) %}
{%- do pii_columns.append(column.name | lower) %}
{%- endif %}
{%- endfor %}
{%- endfor %}
{%- endif %}
{%- if pii_columns %}
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where table_schema in ('{{ model_schemas | unique | join("', '") }}')
        and lower(column_name) in ('{{ pii_columns | unique | join("', '") }}')
{%- else %}
    select
        'sources' as table_schema,
        'no column tagged pii' as table_name,
        '' as column_name
{%- endif %}
