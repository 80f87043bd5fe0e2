"""What dbt's Jinja context gives the project's SQL, stubbed so SQLFluff renders it without dbt or a
database (`make lint`; .sqlfluff: library_path). Vars are dbt_project.yml's, with each env_var's default."""

import re
from pathlib import Path

import yaml

_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"
_ENV_DEFAULT = re.compile(r"env_var\('[^']+',\s*'([^']*)'\)")


def _default(value):
    match = _ENV_DEFAULT.search(value) if isinstance(value, str) else None
    return match.group(1) if match else value


VARS = {name: _default(value) for name, value in yaml.safe_load(_PROJECT.read_text())["vars"].items()}


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
