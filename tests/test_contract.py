"""The contract is the one definition: its docs, its code sets and the generator all agree with it."""

import csv
import io

from orchestration.contract import code_set, load_contract, render_dbt_sources, render_markdown
from orchestration.settings import REPO_ROOT

CONTRACT = load_contract()


def test_contract_covers_the_extracts_the_product_needs():
    assert set(CONTRACT.extracts) == {
        "cad_incidents",
        "cad_calls",
        "cad_unit_assignments",
        "program_shifts",
        "cm_encounters",
        "cm_people",
        "cm_referrals",
        "cm_transports",
        "cm_follow_ups",
        "rms_arrests",
    }
    for extract in CONTRACT.extracts.values():
        assert extract.key, extract.name
        for name in extract.key:
            assert not extract.column(name).nullable, f"{extract.name}.{name} is a key and must be required"


def test_every_code_column_has_a_seed_with_codes():
    for extract in CONTRACT.extracts.values():
        for col in extract.columns:
            if col.type == "code":
                codes = code_set(col.codes)
                assert codes and len(codes) == len(set(codes)), col.codes


def test_sensitive_columns_are_marked():
    sensitive = {(e.name, c.name) for e in CONTRACT.extracts.values() for c in e.columns if c.sensitive}
    assert {
        ("cm_people", "first_name"),
        ("cm_people", "last_name"),
        ("cm_people", "birth_date"),
        ("cm_people", "phone"),
        ("cm_people", "address"),
        ("cm_encounters", "narrative"),
        ("cad_incidents", "address"),
    } <= sensitive


def test_rendered_doc_is_up_to_date():
    on_disk = (REPO_ROOT / "docs" / "extract-contract.md").read_text(encoding="utf-8")
    assert on_disk == render_markdown(), "run `make docs` to re-render docs/extract-contract.md"


def test_dbt_sources_are_rendered_from_the_contract():
    on_disk = (REPO_ROOT / "dbt_project" / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8")
    assert on_disk == render_dbt_sources(), "run `make docs` to re-render the dbt sources"


def test_generated_files_have_exactly_the_contract_columns(small_city):
    drop = small_city["landing"] / "2023-10-20"
    for extract in CONTRACT.extracts.values():
        path = drop / f"{extract.name}_20231020.csv"
        header = next(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        header = [h for h in header if h != ""]  # RMS writes a trailing delimiter
        assert header == extract.column_names, extract.name


def test_clean_demo_data_passes_every_contract_check(small_city):
    report = small_city["report"]
    assert not report.rejected
    assert sum(r.rows_quarantined for r in report.landed) == 0
    assert len(report.landed) == 10 * (30 + 3)  # ten extracts a drop, 30 days plus 3 trailing drops
