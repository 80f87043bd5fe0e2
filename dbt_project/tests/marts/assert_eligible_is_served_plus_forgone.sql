{{ config(meta={'dagster': {'ref': {'name': 'mart_eligibility'}}}) }}
-- Eligible = served eligible + forgone, in every period.
select * from {{ ref('mart_eligibility') }}
where eligible_incidents <> served_eligible_incidents + forgone_incidents
    or served_eligible_incidents > served_incidents
    or eligible_incidents > calltype_eligible_incidents
