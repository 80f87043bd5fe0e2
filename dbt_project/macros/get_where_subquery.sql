{#- Tests of the incremental staging models check only the rows landed since the last finished core build,
    in an incremental build (dbt_project.yml sets `where: landed_since_last_build` on them; the other
    rows passed them when that build finished, or it would not be recorded as finished). That holds because
    landing never deletes a record and a staging build swaps each re-sent record in by key
    (latest_version): a row-level test (not null, accepted values, relationships to a parent that is never
    deleted) judges each row alone, and a key unique among the changed rows stays unique in the table,
    whose older row with that key the build deleted. So a test costs what landed, not ten years of
    history. A full refresh, a first build or a dbt command by hand (no ALT911_CHANGED_SINCE) tests
    every row. Any other `where` works as dbt's own. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'landed_since_last_build' -%}
        {%- set since = changed_since() -%}
        {%- set where = "_landed_at > cast('" ~ since ~ "' as timestamp)" if since else '' -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
