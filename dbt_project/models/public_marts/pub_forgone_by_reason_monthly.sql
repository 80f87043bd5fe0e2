-- Public: forgone opportunities per month by not-served reason, small cells suppressed.
{{ public_counts(ref('mart_forgone_by_reason'), 'month', ['reason'], 'forgone_incidents',
                 where="coverage_view = 'current'") }}
