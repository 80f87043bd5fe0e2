with latest as (
    {{ latest_version(source('case_management', 'cm_referrals'), ['referral_id']) }}
)

select
    referral_id,
    encounter_id,
    referral_type,
    referred_at
from latest
