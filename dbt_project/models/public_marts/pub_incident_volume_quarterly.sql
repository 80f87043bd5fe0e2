-- Public: incidents per quarter by call origin and serving team, small cells suppressed, and no month's
-- suppressed count recoverable from the quarter.
{{ public_counts(ref('mart_incident_volume'), 'quarter', ['call_origin', 'served_by_team'], 'incidents',
                 monthly=ref('pub_incident_volume_monthly')) }}
