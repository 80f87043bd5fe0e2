-- Share of served incidents (with a linked encounter) with at least one referral, overall ('any')
-- and by referral type.
{{ share_of_served_by_type(
    ref('stg_case_management__referrals'), 'referral_type', 'has_referral', 'incidents_with_referral'
) }}
