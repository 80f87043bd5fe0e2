{#- Pseudonymous person key: a keyed SHA-256 of the case-management person id.
    The key comes from ALT911_PERSON_KEY. Only demo runs (ALT911_DEMO=true) may fall back to the
    published demo key; any other run without a key stops with a clear message. -#}
{% macro person_key(person_id) -%}
    {%- set key = env_var('ALT911_PERSON_KEY', '') -%}
    {%- if key == '' -%}
        {%- if var('demo_mode') | string | lower in ('true', '1', 'yes') -%}
            {%- set key = 'alt911-demo-key-not-secret' -%}
        {%- elif execute -%}
            {{ exceptions.raise_compiler_error(
                "ALT911_PERSON_KEY is not set. People are pseudonymized with a keyed hash: set "
                ~ "ALT911_PERSON_KEY to a long random secret (keep it out of the repository), or set "
                ~ "ALT911_DEMO=true for demo data only.") }}
        {%- endif -%}
    {%- endif -%}
    case when {{ person_id }} is null then null
         else {{ sha256_hex("'" ~ key | replace("'", "''") ~ "|' || " ~ person_id) }} end
{%- endmacro %}
