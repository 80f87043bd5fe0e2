-- Public: primary outcomes of served incidents per month, small cells suppressed.
{{ public_counts(ref('mart_outcomes'), 'month', ['primary_outcome'], 'incidents') }}
