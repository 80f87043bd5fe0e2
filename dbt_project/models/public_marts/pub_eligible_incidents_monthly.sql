-- Public: program-eligible incidents per month, served or forgone, small cells suppressed.
{{ public_eligible_incidents('month') }}
