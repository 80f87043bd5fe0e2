{#- How a city's settings (city.yml, passed as vars by orchestration/dbt.py) reach the SQL. -#}

{#- Call-type and beat codes are compared in one normal form on both sides (the city's rules and the
    CAD data): trimmed and upper case. So `welfare ` in an export matches `WELFARE` in the rules. -#}
{% macro normalize_code(expr) -%} upper(trim({{ expr }})) {%- endmacro %}

{#- False when the city declared an input as not recorded (city.yml not_recorded): either the whole
    extract (`cm_transports`) or one column (`cm_encounters.police_backup_requested_at`). Metrics
    built on an input that is not recorded are null with the reason, never 0. -#}
{% macro is_recorded(input) -%}
    {%- set declared = (var('not_recorded') or '') | string -%}
    {%- set missing = [] -%}
    {%- for item in declared.split(',') if item | trim -%}
        {%- set item = item | trim -%}
        {%- if item == input or item == input.split('.')[0] -%}{%- do missing.append(item) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(missing | length == 0) }}
{%- endmacro %}

{#- A measure (a share or rate) when its input is recorded, else a typed null. -#}
{% macro if_recorded(input, expr) -%}
    {%- if is_recorded(input) -%} {{ expr }} {%- else -%} cast(null as double precision) {%- endif -%}
{%- endmacro %}

{#- Whether the incident passes the program's risk screen (var risk_screen, city.yml risk_screen):
    true = passes, false = screened out, null = not triaged (no information to judge). -#}
{% macro risk_screen_passes(weapon, violence, medical, priority) -%}
    {%- set source = var('risk_screen') -%}
    {%- if source == 'cad_flags' -%}
        not ({{ weapon }} or {{ violence }} or {{ medical }})
    {%- elif source == 'priority' -%}
        ({{ priority }} >= {{ var('risk_screen_priority_at_least') | int }})
    {%- elif source == 'call_type' -%}
        true
    {%- elif source == 'not_available' -%}
        cast(null as boolean)
    {%- else -%}
        {{ exceptions.raise_compiler_error("var risk_screen must be cad_flags, priority, call_type or not_available, not '" ~ source ~ "'") }}
    {%- endif -%}
{%- endmacro %}
