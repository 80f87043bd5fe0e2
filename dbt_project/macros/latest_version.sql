{#- The latest version of each record of a raw extract. Landing already keeps one row per key;
    staging still guards against a re-sent duplicate, because a wrong count here would be silent. -#}
{% macro latest_version(source_relation, key_columns) -%}
    select * from (
        select
            src.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _extracted_at desc, _landed_at desc, _source_line desc
            ) as version_rank
        from {{ source_relation }} as src
    ) as versions
    where version_rank = 1
{%- endmacro %}
