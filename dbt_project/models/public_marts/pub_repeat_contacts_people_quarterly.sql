-- Public: people the program served on a 911 incident and served again on another within 30 and 90
-- days, per quarter (see mart_repeat_contacts_people: a lower bound, program-seen repeats only). Each
-- row is withheld when the people with a repeat, or those without one, number from 1 to
-- var('public_min_cell_size') - 1. People not yet judged stay in the internal mart.
with flagged as (
    select
        *,
        {{ few_on_either_side('people_with_repeat', 'people_observed') }} as is_suppressed
    from {{ ref('mart_repeat_contacts_people') }}
    where period_grain = 'quarter'
)

select
    period_start,
    window_days,
    case when not is_suppressed then people_observed end as people_observed,
    case when not is_suppressed then people_with_repeat end as people_with_repeat,
    case when not is_suppressed then share_with_repeat end as share_with_repeat,
    is_suppressed
from flagged
