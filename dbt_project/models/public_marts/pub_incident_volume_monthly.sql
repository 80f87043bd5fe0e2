-- Public: incidents per month by call origin and serving team, small cells suppressed.
{{ public_counts(ref('mart_incident_volume'), 'month', ['call_origin', 'served_by_team'], 'incidents') }}
