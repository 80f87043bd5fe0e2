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
    Zero is published: a count of nobody identifies nobody.
    also_primary: a further condition that makes a cell primary (a quarterly cell whose months left a
    small count unpublished, see unpublished_in_months). -#}
{% macro suppress_small_cells(cells, group_columns, count_column, cell_columns, also_primary=none) %}
{%- set k = var('public_min_cell_size') -%}
{%- set group_by = group_columns | join(', ') -%}
(
    with primaried as (
        select
            c.*,
            ({{ count_column }} between 1 and {{ k - 1 }}
             {%- if also_primary %} or coalesce({{ also_primary }}, false){% endif %}) as is_primary
        from {{ cells }} as c
    ),

    flagged as (
        select
            *,
            sum({{ count_column }}) over (partition by {{ group_by }}) as group_total,
            sum(case when is_primary then 1 else 0 end) over (partition by {{ group_by }}) as primaries_in_group
        from primaried
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

{#- Publishing a quarter beside its months must not give back a month's suppressed count: a quarterly
    cell minus the published months of the same cell is what the months withheld. The column
    unpublished_in_months holds it; a cell where it is from 1 to var('public_min_cell_size') - 1 is
    suppressed (pass it as also_primary). monthly: the monthly public mart of the same cells. -#}
{% macro unpublished_in_months(cells, monthly, cell_columns, count_column) %}
(
    select
        c.*,
        c.{{ count_column }} - coalesce(m.published, 0) as unpublished_in_months
    from {{ cells }} as c
    left join (
        select
            cast(date_trunc('quarter', period_start) as date) as period_start,
            {{ cell_columns | join(', ') }},
            sum({{ count_column }}) as published
        from {{ monthly }}
        group by cast(date_trunc('quarter', period_start) as date), {{ cell_columns | join(', ') }}
    ) as m
        on c.period_start = m.period_start
        {%- for column in cell_columns %} and c.{{ column }} is not distinct from m.{{ column }}{% endfor %}
)
{% endmacro %}

{#- A public mart of counts: the cells of one grain of a metric mart, suppressed within each group
    whose total is known (a period, unless group_columns says more). A quarterly mart given its monthly
    twin (monthly) also suppresses what the months withheld. -#}
{% macro public_counts(mart, grain, cell_columns, count_column, where=none, monthly=none,
                       group_columns=['period_start']) %}
{%- set k = var('public_min_cell_size') -%}
with cells as (
    select
        period_start,
        {{ cell_columns | join(', ') }},
        {{ count_column }}
    from {{ mart }}
    where period_grain = '{{ grain }}'{% if where %} and {{ where }}{% endif %}
),

{%- if monthly %}

checked as {{ unpublished_in_months('cells', monthly, cell_columns, count_column) }},

suppressed as {{ suppress_small_cells('checked', group_columns, count_column, cell_columns,
                                      also_primary='unpublished_in_months between 1 and ' ~ (k - 1)) }}
{%- else %}

suppressed as {{ suppress_small_cells('cells', group_columns, count_column, cell_columns) }}
{%- endif %}

select
    period_start,
    {{ cell_columns | join(', ') }},
    case when is_suppressed then null else {{ count_column }} end as {{ count_column }},
    is_suppressed
from suppressed
{% endmacro %}

{#- Small-cell suppression of a cross-table whose row totals and column totals are both published
    elsewhere: a withheld cell must not stand alone in its row or in its column, or that total minus
    the published cells would give it back. Suppresses within rows, then within columns, and so on for
    `passes` passes, each taking the cells withheld so far as primary. Alternating passes almost always
    settle; when a period still has a lone withheld cell after the last pass, or a withheld cell that is
    the only cell of its row or column (its published total is the cell), every cell of that period is
    withheld (fail closed: nothing is given back, and the rest of the release still publishes). The
    model's tests (small_cells_suppressed by row and by column) check the result.
    cells: period_start, row_column, column_column and count_column, one row per cell. -#}
{% macro suppress_two_ways(cells, row_column, column_column, count_column, passes=6) %}
(
    with pass_0 as (
        select
            *,
            false as was_suppressed
        from {{ cells }}
    ),
    {%- for n in range(passes) %}

    pass_{{ n + 1 }} as (
        select
            period_start,
            {{ row_column }},
            {{ column_column }},
            {{ count_column }},
            is_suppressed as was_suppressed
        from {{ suppress_small_cells(
            'pass_' ~ n, ['period_start', row_column if n % 2 == 0 else column_column], count_column,
            [row_column, column_column], also_primary='was_suppressed'
        ) }} as suppressed
    ),
    {%- endfor %}

    counted as (
        select
            *,
            {%- for dimension in [row_column, column_column] %}
            sum(case when was_suppressed then 1 else 0 end)
                over (partition by period_start, {{ dimension }}) as withheld_in_{{ dimension }},
            sum(case when was_suppressed then 0 else 1 end)
                over (partition by period_start, {{ dimension }}) as published_in_{{ dimension }},
            count(*) over (partition by period_start, {{ dimension }}) as cells_in_{{ dimension }}
            {{- "," if not loop.last }}
            {%- endfor %}
        from pass_{{ passes }}
    ),

    settled as (
        select
            *,
            max(case
                when (withheld_in_{{ row_column }} = 1 and published_in_{{ row_column }} > 0)
                    or (withheld_in_{{ column_column }} = 1 and published_in_{{ column_column }} > 0)
                    -- a withheld cell alone in its row or column equals that published total
                    or (was_suppressed and (cells_in_{{ row_column }} = 1 or cells_in_{{ column_column }} = 1))
                    then 1 else 0
            end) over (partition by period_start) as has_lone_cell
        from counted
    )

    select
        period_start,
        {{ row_column }},
        {{ column_column }},
        {{ count_column }},
        was_suppressed or has_lone_cell = 1 as is_suppressed
    from settled
)
{% endmacro %}
