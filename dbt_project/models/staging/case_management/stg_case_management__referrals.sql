{{ config(unique_key='referral_id') }}

with latest as (
    {{ latest_version(source('case_management', 'cm_referrals'), ['referral_id']) }}
)

select
    referral_id,
    encounter_id,
    referral_type,
    referred_at,
    _landed_at
from latest
