-- People served again and again: in the 12 months ending on the last day of data, how many distinct
-- people had at least 5, 10, 20 and 40 encounters, and what share of encounters they account for.
-- People are counted by their pseudonymous key only.
with bounds as (
    select
        max(local_date) as window_end,
        cast({{ dbt.dateadd('year', -1, 'max(local_date)') }} as date) as window_start_exclusive
    from {{ ref('fct_incidents') }}
),

per_person as (
    select
        e.person_key,
        count(*) as encounters
    from {{ ref('fct_encounters') }} as e
    cross join bounds as b
    where e.person_key is not null
        and e.started_local_date > b.window_start_exclusive and e.started_local_date <= b.window_end
    group by e.person_key
),

totals as (
    select
        count(*) as people,
        cast(sum(encounters) as bigint) as encounters
    from per_person
),

thresholds as (
    select min_encounters from (values (5), (10), (20), (40)) as t (min_encounters)
)

select
    t.min_encounters,
    b.window_start_exclusive,
    b.window_end,
    count(p.person_key) as people,
    cast(coalesce(sum(p.encounters), 0) as bigint) as encounters,
    tot.people as all_people,
    tot.encounters as all_encounters,
    {{ safe_share('count(p.person_key)', 'tot.people') }} as share_of_people,
    {{ safe_share('coalesce(sum(p.encounters), 0)', 'tot.encounters') }} as share_of_encounters
from thresholds as t
cross join bounds as b
cross join totals as tot
left join per_person as p on t.min_encounters <= p.encounters
group by t.min_encounters, b.window_start_exclusive, b.window_end, tot.people, tot.encounters
