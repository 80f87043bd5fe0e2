{{ config(unique_key='follow_up_id') }}

with latest as (
    {{ latest_version(source('case_management', 'cm_follow_ups'), ['follow_up_id']) }}
)

select
    follow_up_id,
    encounter_id,
    followed_up_at,
    team_type as team,
    contact_made,
    _landed_at
from latest
