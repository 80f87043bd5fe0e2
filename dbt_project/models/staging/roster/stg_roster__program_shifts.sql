{{ config(unique_key='shift_id') }}

with latest as (
    {{ latest_version(source('roster', 'program_shifts'), ['shift_id']) }}
)

select
    shift_id,
    unit_id,
    team_type as team,
    shift_start,
    shift_end,
    _landed_at
from latest
