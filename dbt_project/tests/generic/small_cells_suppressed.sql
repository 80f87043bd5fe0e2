{#- Privacy of a public count column: no count from 1 to var('public_min_cell_size') - 1 is published,
    and no group (group_by: the period) has exactly one suppressed cell beside published ones, since the
    group total minus the published cells would reveal it. A group whose every cell is suppressed
    reveals nothing. -#}
{% test small_cells_suppressed(model, column_name, group_by) %}
with cells as (
    select
        {{ group_by }} as cell_group,
        {{ column_name }} as published_count,
        is_suppressed
    from {{ model }}
),

grouped as (
    select
        *,
        sum(case when is_suppressed then 1 else 0 end) over (partition by cell_group) as suppressed_in_group,
        sum(case when is_suppressed then 0 else 1 end) over (partition by cell_group) as published_in_group
    from cells
)

select * from grouped
where published_count between 1 and {{ var('public_min_cell_size') - 1 }}
   or (suppressed_in_group = 1 and published_in_group > 0)
{% endtest %}
