{#- Incremental incident-level models: the intermediate models that roll staging up to one row per incident
    rebuild only the incidents whose staging rows landed after the newest landing the last finished core
    build saw (ALT911_CHANGED_SINCE, set by the dbt_core step from land.dbt_builds).

    Why that is exact: landing never deletes a record and stamps every row it adds or replaces with a
    later _landed_at, so those incidents are the ones whose rows changed. One change escapes the stamps:
    a re-sent child row (a call, a unit assignment) whose incident number changed leaves its old incident
    with one row fewer, and nothing stamped names that incident. So a model that counts child rows
    stores the count, and when the incidents it does not rebuild hold fewer child rows in staging than it
    counted for them, every incident is rebuilt.

    How: a pre-hook deletes the incidents to rebuild (delete_rebuilt_incidents), then the model appends
    them (filtered by is_rebuilt), in one transaction. The guard reads only incidents that are not
    rebuilt, which the delete leaves as they were, so the hook and the model agree on what to rebuild.
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

{#- A boolean SQL expression: is the incident in incident_column rebuilt by this build? -#}
{% macro is_rebuilt(incident_column, changed_models, child_model=none, count_column=none, within_incidents=false) -%}
    {#- changed_since() first: a unit test has no relation for is_incremental() to look up -#}
    {%- if not changed_since() or not is_incremental() -%}
        true
    {%- else -%}
        {%- set changed = incidents_landed_since(changed_models) -%}
        ({{ incident_column }} in ({{ changed }})
        {%- if child_model %}
            -- a child row moved away from an incident not rebuilt: rebuild them all
            or (
                select coalesce(sum(built.{{ count_column }}), 0) from {{ this }} as built
                where built.incident_number not in ({{ changed }})
            ) <> (
                select count(*) from ({{ counted_children(child_model, within_incidents) }}) as children
                where children.incident_number not in ({{ changed }})
            )
        {%- endif %})
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental incident-level model: remove the incidents this build rebuilds. -#}
{% macro delete_rebuilt_incidents(changed_models, child_model=none, count_column=none, within_incidents=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ is_rebuilt('incident_number', changed_models, child_model, count_column, within_incidents) }}
    {%- endif -%}
{%- endmacro %}
