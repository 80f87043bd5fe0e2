-- Public: people served per quarter by age band, gender and race/ethnicity, small cells suppressed
-- within each dimension. Quarterly only: people counted once per period do not add up across periods.
{{ public_counts(ref('mart_demographics'), 'quarter', ['dimension', 'category'], 'people',
                 group_columns=['period_start', 'dimension']) }}
