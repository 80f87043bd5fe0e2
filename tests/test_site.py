"""The public site and the quarterly data cards, as a reader gets them: built by the demo command's
real Dagster run, then opened in headless Chromium (the Debian package, driven by Playwright) from
files, with every request that would leave the machine recorded."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from babel.numbers import parse_decimal

from orchestration.site.build import DEFAULT_CHROMIUM, HERE, QUESTIONS, build_site
from tests.conftest import REPO, clean_env

COUNT_COLUMNS = {
    "incidents",
    "forgone_incidents",
    "requests",
    "base_count",
    "numerator",
    "denominator",
    "incidents_measured",
    "served_eligible_911_incidents",
}
SCREENSHOTS = os.environ.get("ALT911_SCREENSHOTS")  # scripts/site_screenshots.sh: where to keep them


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """`python -m orchestration demo` on July to October 2023 (two quarters): the site its run published."""
    data = tmp_path_factory.mktemp("site_demo")
    out = subprocess.run(
        [sys.executable, "-m", "orchestration", "demo", "--years", "0.337"],
        cwd=REPO,
        env=clean_env(ALT911_DATA_DIR=str(data), ALT911_SITE_PDF="true"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    site = data / "serving" / "site"
    assert f"public site          {site / 'index.html'}" in out.stdout
    return site


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    path = os.environ.get("ALT911_CHROMIUM", DEFAULT_CHROMIUM)
    assert Path(path).exists(), f"{path} missing: bash scripts/browser_setup.sh installs it"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_page(browser, url: str, leaving: list[str], errors: list[str]):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else leaving.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return page


def shoot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_the_run_publishes_the_site_beside_the_serving_copy(site):
    assert site.is_symlink() and os.readlink(site).startswith("site_releases/")
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    assert {"index.html", "questions/index.html", "cards/index.html"} <= set(pages)
    assert {f"questions/{q}.html" for q in QUESTIONS} <= set(pages)
    cards = sorted(p.name for p in (site / "cards").glob("20*"))
    assert cards == [f"2023-Q{q}.{lang}.{ext}" for q in (3, 4) for lang in ("en", "es") for ext in ("html", "pdf")], (
        cards
    )
    for pdf in (site / "cards").glob("*.pdf"):
        assert pdf.read_bytes()[:5] == b"%PDF-", pdf
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000  # the library itself, not a CDN link


def test_every_page_renders_its_charts_and_nothing_leaves_the_machine(site, browser):
    leaving, errors = [], []
    page = open_page(browser, (site / "index.html").as_uri(), leaving, errors)
    for tab in ("volume", "response", "backup", "outcomes", "demographics", "repeat", "quality"):
        page.click(f"#tab-{tab}")
        page.wait_for_selector("#chart .main-svg")
        assert page.locator("#chart .trace").count() > 0, tab  # data drawn, not an empty frame
        assert page.locator("#numbers tbody tr").count() > 0, tab
        shoot(page, f"dashboard-{tab}")
    page.select_option("#grain", "quarter")
    page.select_option("#team", "crt")
    page.click("#tab-response")
    rows = page.locator("#numbers tbody tr td:first-child").all_inner_texts()
    assert rows and set(rows) == {"Crisis response team"}, rows  # the team filter applies
    page.click("#tab-outcomes")
    assert page.locator("#team-note").is_visible()  # a tab the team filter cannot split says so
    page.close()
    for q in QUESTIONS:
        page = open_page(browser, (site / "questions" / f"{q}.html").as_uri(), leaving, errors)
        page.wait_for_selector("#chart .main-svg")
        assert page.locator("#chart .trace").count() > 0, q
        assert "has no answer yet" not in page.inner_text("#answer"), q  # demo data answers every question
        shoot(page, f"question-{q}")
        page.close()
    for card in sorted((site / "cards").glob("*.html")):
        page = open_page(browser, card.as_uri(), leaving, errors)
        shoot(page, f"card-{card.stem}")
        page.close()
    assert leaving == [] and errors == []


def embedded_data(site: Path) -> dict:
    text = (site / "index.html").read_text(encoding="utf-8")
    return json.loads(re.search(r"const DATA = (\{.*?\});\n", text, re.S).group(1))


def test_no_published_number_is_a_small_count(site):
    """Every count the pages carry is 0, 11 or more, or withheld (null, drawn as "withheld")."""
    data = embedded_data(site)
    small = [
        (name, grain, row)
        for name, grains in data.items()
        for grain, rows in grains.items()
        for row in rows
        for column, value in row.items()
        if column in COUNT_COLUMNS and value is not None and 1 <= value <= 10
    ]
    assert small == []
    assert any(row.get("is_suppressed") for grains in data.values() for rows in grains.values() for row in rows)
    for card in (site / "cards").glob("*.en.html"):
        for figure in ("volume", "eligible", "referrals"):
            shown = card_figures(card)[figure]
            assert shown == "withheld" or shown.startswith("at least") or not 1 <= int(shown.replace(",", "")) <= 10


def card_figures(card: Path) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)">([^<]+)<', card.read_text(encoding="utf-8")))


def as_number(text: str, locale: str):
    digits = re.sub(r"[^\d.,]", "", text)
    return parse_decimal(digits, locale=locale) if digits else text  # a word (withheld, not recorded) as is


def test_english_and_spanish_cards_carry_the_same_numbers(site):
    pairs = sorted((site / "cards").glob("*.en.html"))
    assert len(pairs) == 2
    for en in pairs:
        es = en.with_name(en.name.replace(".en.", ".es."))
        english, spanish = card_figures(en), card_figures(es)
        assert english.keys() == spanish.keys() and {"volume", "share_served", "outcome-1"} <= english.keys()
        for figure in english:
            a, b = as_number(english[figure], "en_US"), as_number(spanish[figure], "es_US")
            if isinstance(a, str):
                assert (a, b) in {("withheld", "oculto"), ("not recorded", "no registrado")}, figure
            else:
                assert a == b, (en.name, figure, english[figure], spanish[figure])
        assert "Respuesta comunitaria" in es.read_text(encoding="utf-8")  # the program's own words, per language


def test_translation_files_have_the_same_words_to_translate():
    def keys(node, prefix=""):
        return {
            k
            for name, value in node.items()
            for k in (keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}"})
        }

    en, es = (yaml.safe_load((HERE / "i18n" / f"{lang}.yml").read_text(encoding="utf-8")) for lang in ("en", "es"))
    assert keys(en) == keys(es)


def test_a_card_is_printed_again_only_when_its_numbers_change(site, tmp_path, monkeypatch):
    """The next site keeps an unchanged card's page stamp and its PDF, byte for byte, and prints only the
    cards whose numbers changed (Chromium takes seconds a card; ten years have 80 cards)."""
    from orchestration.site import build

    printed = []
    real_print = build.print_pdfs
    monkeypatch.setattr(
        build,
        "print_pdfs",
        lambda pages, browser: printed.extend(page.name for page, _ in pages) or real_print(pages, browser),
    )
    serving, city = site.parent / "alt911_marts.duckdb", REPO / "cities" / "demo"
    same = tmp_path / "same"
    build_site(serving, same, city, pdf=True, progress=lambda m: None, previous=site.resolve())
    assert printed == []
    cards = sorted((site / "cards").glob("20*"))
    assert len(cards) == 8
    for card in cards:
        assert (same / "cards" / card.name).read_bytes() == card.read_bytes(), card.name

    changed = tmp_path / "changed.duckdb"
    shutil.copy(serving.resolve(), changed)
    con = duckdb.connect(str(changed))
    n = con.execute(
        "update public_marts.pub_response_times_quarterly set median_minutes = median_minutes + 1 "
        "where period_start = '2023-10-01' and team = 'crt'"
    ).fetchone()[0]
    con.close()
    assert n == 1
    build_site(changed, tmp_path / "next", city, pdf=True, progress=lambda m: None, previous=same)
    assert sorted(printed) == ["2023-Q4.en.html", "2023-Q4.es.html"]
    for name in ("2023-Q3.en.pdf", "2023-Q3.es.html"):
        assert (tmp_path / "next" / "cards" / name).read_bytes() == (same / "cards" / name).read_bytes()
    fresh = (tmp_path / "next" / "cards" / "2023-Q4.en.pdf").read_bytes()
    assert fresh[:5] == b"%PDF-" and fresh != (same / "cards" / "2023-Q4.en.pdf").read_bytes()

    # a changed stylesheet changes every PDF, though no page changed
    styled = tmp_path / "site_package"
    shutil.copytree(build.HERE, styled, ignore=shutil.ignore_patterns("__pycache__"))
    (styled / "assets" / "site.css").write_text((styled / "assets" / "site.css").read_text() + "\nh1 { color: red }\n")
    monkeypatch.setattr(build, "HERE", styled)
    printed.clear()
    build_site(serving, tmp_path / "restyled", city, pdf=True, progress=lambda m: None, previous=same)
    assert len(printed) == 4


def test_the_site_reads_the_public_marts_and_nothing_else(site, tmp_path):
    """A DuckDB file holding only the public marts is all the site needs: no internal mart, no person-level
    row can reach a page."""
    serving = site.parent / "alt911_marts.duckdb"
    public_only = tmp_path / "public_only.duckdb"
    con = duckdb.connect(str(public_only))
    con.execute(f"attach '{serving}' as published (read_only)")
    con.execute("create schema public_marts")
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = 'published' and schema_name = 'public_marts'"
    ).fetchall():
        con.execute(f"create table public_marts.{table} as select * from published.public_marts.{table}")
    con.close()
    result = build_site(public_only, tmp_path / "site", REPO / "cities" / "demo", pdf=False, progress=lambda m: None)
    assert result["cards"] == ["2023-Q4", "2023-Q3"] and not list((tmp_path / "site").rglob("*.pdf"))
