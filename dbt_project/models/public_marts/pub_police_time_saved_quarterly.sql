-- Public: police hours saved per quarter (see mart_police_time_saved), with the assumptions behind
-- them; withheld when the program served few eligible 911 incidents that quarter.
select
    period_start,
    served_eligible_911_incidents < {{ var('public_min_cell_size') }} as is_suppressed,
    case when served_eligible_911_incidents >= {{ var('public_min_cell_size') }}
            then served_eligible_911_incidents
    end as served_eligible_911_incidents,
    case when served_eligible_911_incidents >= {{ var('public_min_cell_size') }}
            then police_hours_saved
    end as police_hours_saved,
    avg_police_units_per_incident,
    units_source,
    avg_police_hours_per_unit,
    hours_source,
    displacement_factor
from {{ ref('mart_police_time_saved') }}
where period_grain = 'quarter'
