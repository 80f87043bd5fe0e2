-- Arrests (RMS) counted per incident they name.
select
    incident_number,
    count(*) as arrest_count
from {{ ref('stg_rms__arrests') }}
where incident_number is not null
group by incident_number
