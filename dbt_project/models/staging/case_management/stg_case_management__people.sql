{{ config(unique_key='person_key') }}

with latest as (
    {{ latest_version(source('case_management', 'cm_people'), ['person_id']) }}
),

aged as (
    select
        *,
        -- whole years of age at the last update; only the band leaves staging
        floor({{ dbt.datediff('birth_date', 'cast(updated_at as date)', 'day') }} / 365.25) as age_years
    from latest
)

select
    {{ person_key('person_id') }} as person_key,
    case
        when age_years is null then 'unknown'
        when age_years < 18 then 'under 18'
        when age_years < 25 then '18-24'
        when age_years < 35 then '25-34'
        when age_years < 45 then '35-44'
        when age_years < 55 then '45-54'
        when age_years < 65 then '55-64'
        else '65 and over'
    end as age_band,
    nullif(trim(gender), '') as gender,
    nullif(trim(race_ethnicity), '') as race_ethnicity,
    updated_at,
    _landed_at
    -- names, birth date, phone and address are sensitive and stop here
from aged
