-- The headline metrics over the whole history, one row per metric and dimension value; see mart_kpis.
{{ kpis_at_grain('all') }}
