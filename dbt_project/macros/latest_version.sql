{#- The latest version of each record of a raw extract. Landing already keeps one row per key;
    staging still guards against a re-sent duplicate, because a wrong count here would be silent.
    In an incremental build only the rows landed since the table was last built are read: landing
    stamps every row it adds or replaces with _landed_at, strictly later at every landing, and never
    deletes a record, so those rows are exactly what changed (a replaced row keeps its key and
    delete+insert swaps it). -#}
{% macro latest_version(source_relation, key_columns) -%}
    select * from (
        select
            src.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _extracted_at desc, _landed_at desc, _source_line desc
            ) as version_rank
        from {{ source_relation }} as src
        {%- if is_incremental() %}
        where src._landed_at > (
            select coalesce(max(built._landed_at), cast('1900-01-01' as timestamp)) from {{ this }} as built
        )
        {%- endif %}
    ) as versions
    where version_rank = 1
{%- endmacro %}
