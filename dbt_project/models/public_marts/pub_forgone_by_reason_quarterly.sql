-- Public: forgone opportunities per quarter by not-served reason, small cells suppressed, and no
-- month's suppressed count recoverable from the quarter.
{{ public_counts(ref('mart_forgone_by_reason'), 'quarter', ['reason'], 'forgone_incidents',
                 where="coverage_view = 'current'", monthly=ref('pub_forgone_by_reason_monthly')) }}
