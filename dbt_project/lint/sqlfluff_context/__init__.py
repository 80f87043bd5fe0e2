"""What dbt's Jinja context gives the project's SQL, stubbed so SQLFluff renders it without dbt or a
database (`make lint`; .sqlfluff: library_path). Values are the project's defaults (dbt_project.yml)."""

VARS = {
    "city_tz": "America/New_York",
    "program": "heart",
    "risk_screen": "cad_flags",
    "risk_screen_priority_at_least": "",
    "not_recorded": "",
    "demo_mode": "true",
    "concurrent_dispatch_minutes": 5,
    "follow_up_window_hours": 48,
    "staffing_target_share": 0.5,
    "public_min_cell_size": 11,
}


def var(name, default=None):
    return VARS.get(name, default)


def env_var(name, default=""):
    return default or "lint"


def ref(*names, **_):
    return names[-1]


def source(source_name, table_name):
    return f"{source_name}.{table_name}"


def config(*_, **__):
    return ""


def is_incremental():
    return False


class _Anything:
    """dbt, exceptions, adapter, graph: any attribute or call of them renders as the SQL literal null."""

    def __getattr__(self, name):
        if name.startswith("_") or name in ("unsafe_callable", "alters_data"):  # Jinja's sandbox asks these
            raise AttributeError(name)
        return self

    def __call__(self, *_, **__):
        return self

    def __str__(self):
        return "null"

    def values(self):
        return []


dbt = exceptions = adapter = graph = _Anything()
execute = False
