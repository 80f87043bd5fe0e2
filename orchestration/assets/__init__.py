"""Dagster assets, one module per step of the flow (land -> raw -> staging -> marts -> checks -> serving)."""
