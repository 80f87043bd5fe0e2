{#- Incremental incident-level models: the intermediate models that roll staging up to one row per incident
    (eligibility, calls, unit responses) and fct_incidents rebuild only the incidents whose inputs changed
    after the newest landing the last finished core build saw (ALT911_CHANGED_SINCE, set by the dbt_core
    step from land.dbt_builds).

    Why that is exact: landing never deletes a record and stamps every row it adds or replaces with a
    later _landed_at, so those incidents are the ones whose rows changed. One change escapes the stamps:
    a re-sent child row (a call, a unit assignment) whose incident number changed leaves its old incident
    with one row fewer, and nothing stamped names that incident. So a model that counts child rows
    stores the count, and when the incidents it does not rebuild hold fewer child rows in staging than it
    counted for them, every incident is rebuilt.

    How: a pre-hook deletes the incidents to rebuild (delete_rebuilt_incidents), then the model appends
    every incident its table does not hold (not_yet_built), in one transaction. So what to rebuild is
    decided once, in the hook; the model only fills what is missing.
    Without ALT911_CHANGED_SINCE (a first build, a full refresh, a dbt command by hand) every incident is
    rebuilt. -#}

{#- The newest landing the last finished build saw, or '' when unknown. Read only at run time: an
    env_var() seen while parsing would make every hourly value a reason to re-parse the project. -#}
{% macro changed_since() -%}
    {%- if execute -%}
        {{ return(env_var('ALT911_CHANGED_SINCE', '')) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Incident numbers of the rows of these staging models landed after changed_since(). -#}
{% macro incidents_landed_since(models) -%}
    {%- for model in models %}
    select incident_number from {{ ref(model) }}
    where _landed_at > cast('{{ changed_since() }}' as timestamp)
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The child rows a model counts per incident (count_column): all of child_model's rows, or only those
    whose incident is in CAD (within_incidents: the model joins them to stg_cad__incidents). -#}
{% macro counted_children(child_model, within_incidents) -%}
    select incident_number from {{ ref(child_model) }}
    {%- if within_incidents %}
    where incident_number in (select incident_number from {{ ref('stg_cad__incidents') }})
    {%- endif %}
{%- endmacro %}

{#- A boolean SQL expression, true when a child row moved away from an incident that is not rebuilt (not
    in `changed`): the table counted more child rows (count_column) for those incidents than staging holds.
    Then every incident is rebuilt. -#}
{% macro child_moved_away(changed, child_model, count_column, within_incidents) -%}
    (
        select coalesce(sum(built.{{ count_column }}), 0) from {{ this }} as built
        where built.incident_number not in ({{ changed }})
    ) <> (
        select count(*) from ({{ counted_children(child_model, within_incidents) }}) as children
        where children.incident_number not in ({{ changed }})
    )
{%- endmacro %}

{#- Pre-hook of an incremental incident-level model: delete the incidents with a row of changed_models landed
    since the last finished build, those `differing` selects (SQL of incident numbers), or every incident
    when a child row moved away: moved_children lists [child_model, count_column, within_incidents] as
    child_moved_away takes them. -#}
{% macro delete_rebuilt_incidents(changed_models, moved_children=[], differing=none) -%}
    {%- if is_incremental() -%}
        {%- set changed = incidents_landed_since(changed_models) -%}
        delete from {{ this }}
        where
        {%- if not changed_since() %}
            true
        {%- else %}
            incident_number in ({{ changed }})
            {%- if differing %}
            or incident_number in ({{ differing }})
            {%- endif %}
            {%- for child_model, count_column, within_incidents in moved_children %}
            or {{ child_moved_away(changed, child_model, count_column, within_incidents) }}
            {%- endfor %}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- A boolean SQL expression for an incremental incident-level model: the incident in incident_column has no
    row in the table (new, or deleted by the pre-hook), so this build appends it. Qualify incident_column
    with its table's alias: unqualified, it would name the table's own column here. -#}
{% macro not_yet_built(incident_column) -%}
    {%- if is_incremental() -%}
        not exists (select 1 from {{ this }} as built where built.incident_number = {{ incident_column }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- SQL: the incident numbers whose row in `derived` (an intermediate model, one row per incident) differs
    from what the fact table holds in `columns`, a row on one side only included. `held` selects the fact
    rows that took a value from it (the others hold nulls there). -#}
{% macro incidents_differing(derived, columns, held) -%}
    select coalesce(built.incident_number, now.incident_number) as incident_number
    from (select * from {{ this }} where {{ held }}) as built
    full outer join {{ ref(derived) }} as now on built.incident_number = now.incident_number
    where built.incident_number is null or now.incident_number is null
    {%- for column in columns %}
        or built.{{ column }} is distinct from now.{{ column }}
    {%- endfor %}
{%- endmacro %}

{#- What fct_incidents rebuilds besides the incidents whose own row, calls or unit assignments landed: those
    whose row in a small or time-dependent per-incident table (encounters, arrests, availability, not-served
    reasons; rebuilt in full each time) differs from what the fact row holds. Availability depends on other
    incidents (a unit busy on one is not free for the next): comparing it beats guessing which incidents a
    changed clear time reaches. -#}
{% macro fct_incidents_differing() -%}
    {{ incidents_differing('int_incidents_encounters',
        ['encounter_id', 'primary_outcome', 'has_referral', 'has_program_transport', 'has_follow_up',
         'has_follow_up_within_window'], 'encounter_id is not null') }}
    union
    {{ incidents_differing('int_incidents_arrests', ['arrest_count'], 'arrest_count > 0') }}
    union
    {{ incidents_differing('int_incidents_availability',
        ['field_units_on_shift', 'field_units_busy', 'is_field_unit_available'], 'field_units_on_shift is not null') }}
    union
    {{ incidents_differing('int_incidents_not_served_reasons',
        ['not_served_reason', 'not_served_reason_unconstrained'], 'not_served_reason is not null') }}
{%- endmacro %}
