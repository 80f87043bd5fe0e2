{#- Small-cell suppression for public marts.

    cells: a relation or CTE with one row per published cell; group_columns: the columns of the
    group whose total is published (a row of a table); count_column: the count to protect;
    cell_columns: the columns naming a cell within its group. Among equal counts the complementary
    cell is chosen by cell_columns, so every release suppresses the same cell: were the choice to
    change between releases, the two releases together would reveal both cells.
    A count from 1 to var('public_min_cell_size') - 1 is suppressed (primary). When a group has
    exactly one primary cell, its total minus the other cells would reveal it, so the group's smallest
    other non-zero cell is suppressed too (complementary). When the group total itself is small,
    every cell of the group is suppressed. Suppressed counts become null, with is_suppressed = true.
    Zero is published: a count of nobody identifies nobody. -#}
{% macro suppress_small_cells(cells, group_columns, count_column, cell_columns) %}
{%- set k = var('public_min_cell_size') -%}
{%- set group_by = group_columns | join(', ') -%}
(
    with flagged as (
        select
            c.*,
            {{ count_column }} between 1 and {{ k - 1 }} as is_primary,
            sum({{ count_column }}) over (partition by {{ group_by }}) as group_total,
            sum(case when {{ count_column }} between 1 and {{ k - 1 }} then 1 else 0 end)
                over (partition by {{ group_by }}) as primaries_in_group
        from {{ cells }} as c
    ),

    ranked as (
        select
            *,
            row_number() over (
                partition by {{ group_by }}
                order by
                    case when is_primary or {{ count_column }} = 0 then 1 else 0 end,
                    {{ count_column }},
                    {{ cell_columns | join(', ') }}
            ) as smallest_other
        from flagged
    )

    select
        *,
        (is_primary
         or group_total between 1 and {{ k - 1 }}
         or (primaries_in_group = 1 and not is_primary and {{ count_column }} > 0 and smallest_other = 1)
        ) as is_suppressed
    from ranked
)
{% endmacro %}
