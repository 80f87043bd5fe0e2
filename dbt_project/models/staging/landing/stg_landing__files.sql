-- One row per file version landed, with how many of its rows were quarantined: the rows-quarantined
-- data-quality indicator counts them by the local day the source system extracted them.
-- A table, not incremental: a few rows per file, and the ledger has no key a re-landed file keeps.
{{ config(materialized='table') }}

select
    extract,
    extracted_at,
    cast({{ to_local('extracted_at') }} as date) as extracted_local_date,
    rows_read,
    rows_loaded,
    rows_quarantined,
    landed_at
from {{ source('landing', 'file_ledger') }}
