{{ config(meta={'dagster': {'ref': {'name': 'mart_incident_volume'}}}) }}
-- No incident is lost or duplicated between staging and the fact table, and volume totals reconcile.
select
    'fct_incidents' as check_name,
    (select count(*) from {{ ref('fct_incidents') }}) as n,
    (select count(*) from {{ ref('stg_cad__incidents') }}) as expected
where (select count(*) from {{ ref('fct_incidents') }}) <> (select count(*) from {{ ref('stg_cad__incidents') }})
union all
select
    'mart_incident_volume',
    (
        select sum(incidents) from {{ ref('mart_incident_volume') }}
        where period_grain = 'all'
    ),
    (select count(*) from {{ ref('stg_cad__incidents') }})
where (
    select sum(incidents) from {{ ref('mart_incident_volume') }}
    where period_grain = 'all'
)
<> (select count(*) from {{ ref('stg_cad__incidents') }})
