-- The headline metrics at one grain (week); see mart_kpis for what each is and where it comes from.
{{ kpis_at_grain('week') }}
