-- Public: primary outcomes of served incidents per quarter, small cells suppressed, and no month's
-- suppressed count recoverable from the quarter.
{{ public_counts(ref('mart_outcomes'), 'quarter', ['primary_outcome'], 'incidents',
                 monthly=ref('pub_outcomes_monthly')) }}
