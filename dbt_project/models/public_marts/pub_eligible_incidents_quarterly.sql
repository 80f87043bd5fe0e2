-- Public: program-eligible incidents per quarter, served or forgone, small cells suppressed, and no
-- month's suppressed count recoverable from the quarter.
{{ public_eligible_incidents('quarter', monthly=ref('pub_eligible_incidents_monthly')) }}
