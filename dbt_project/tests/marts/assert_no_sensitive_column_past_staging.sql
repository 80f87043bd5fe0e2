{{ config(meta={'dagster': {'ref': {'name': 'fct_encounters'}}}) }}
-- Privacy: names, birth dates, phones, addresses, narratives and raw person ids never leave raw:
-- staging drops them (or replaces the person id with a keyed hash), so no model has such a column.
select table_schema, table_name, column_name
from information_schema.columns
where table_schema in ('staging', 'intermediate', 'marts', 'public_marts')
  and lower(column_name) in ('first_name', 'last_name', 'birth_date', 'phone', 'address', 'narrative', 'person_id')
