-- The people the program served, per period: each person with an encounter in the period counts
-- once, by age band, gender and race/ethnicity as case management records them (age at the
-- record's last update, banded in staging; birth dates stop there). A missing value is 'unknown'.
with served as (
    select distinct
        person_key,
        started_local_date as local_date
    from {{ ref('fct_encounters') }}
    where person_key is not null
),

periods as ({{ by_period('served', 'local_date') }}),

people_in_period as (
    select distinct
        p.period_grain,
        p.period_start,
        p.person_key,
        coalesce(s.age_band, 'unknown') as age_band,
        coalesce(s.gender, 'unknown') as gender,
        coalesce(s.race_ethnicity, 'unknown') as race_ethnicity
    from periods as p
    left join {{ ref('stg_case_management__people') }} as s on p.person_key = s.person_key
),

described as (
    select
        period_grain,
        period_start,
        'age_band' as dimension,
        age_band as category
    from people_in_period
    union all
    select
        period_grain,
        period_start,
        'gender',
        gender
    from people_in_period
    union all
    select
        period_grain,
        period_start,
        'race_ethnicity',
        race_ethnicity
    from people_in_period
)

select
    period_grain,
    period_start,
    dimension,
    category,
    count(*) as people,
    {{ safe_share('count(*)', 'sum(count(*)) over (partition by period_grain, period_start, dimension)') }}
        as share_of_people
from described
group by period_grain, period_start, dimension, category
