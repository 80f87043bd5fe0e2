"""Alternative-response analytics warehouse: landing, orchestration, checks and publishing.

Metric logic lives in dbt (dbt_project/); this package only lands, orchestrates, checks and publishes.
"""
