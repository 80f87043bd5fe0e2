-- Public: forgone opportunities per quarter by not-served reason within local weekday x hour, small
-- cells withheld. Cells are protected within each reason, whose quarterly total pub_forgone_by_reason
-- publishes; no weekday-hour total is published, so a slot's withheld cell cannot be subtracted out.
{{ public_counts(
    ref('mart_forgone_by_reason_weekday_hour'), 'quarter', ['reason', 'iso_day_of_week', 'local_hour'],
    'forgone_incidents', group_columns=['period_start', 'reason']
) }}
