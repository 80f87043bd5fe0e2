-- Public: forgone opportunities per quarter by beat (where to expand), small cells suppressed.
-- Quarterly only: beat-month cells are mostly small.
{{ public_counts(ref('mart_forgone_by_beat'), 'quarter', ['beat'], 'forgone_incidents') }}
