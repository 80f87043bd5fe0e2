"""The public site and the quarterly data cards, generated from the public marts of a serving copy.

Reads only the `public_marts` schema (suppressed, no person-level rows), writes a self-contained
folder: no CDN, no server; every page works from a file or any static host. Charts are drawn by
plotly.js, pinned with the `plotly` Python package that ships it. Every word comes from i18n/<lang>.yml;
numbers are formatted per language by Babel. Each card is also printed to PDF by headless Chromium."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestration.settings import read_city_file

HERE = Path(__file__).parent
LANGUAGES = ("en", "es")
CHROMIUM_ENV = "ALT911_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SITE_SETTINGS_FILE = "public_site.yml"  # in the city folder: program name and quarterly notes

# public mart -> name in the pages' data; the site reads nothing else
TABLES = {
    "volume": "pub_incident_volume",
    "eligible": "pub_eligible_incidents",
    "response": "pub_response_times",
    "backup": "pub_backup_requests",
    "outcomes": "pub_outcomes",
    "forgone_reason": "pub_forgone_by_reason",
}
QUARTERLY_ONLY = {
    "forgone_beat": "pub_forgone_by_beat_quarterly",
    "time_saved": "pub_police_time_saved_quarterly",
    "quality": "pub_data_quality_quarterly",
    "demographics": "pub_demographics_quarterly",
}
QUESTIONS = ("reach", "speed", "police", "outcomes", "gaps", "time", "quality")


class SiteError(RuntimeError):
    """The site cannot be built as asked (no serving copy, no browser for the PDF cards)."""


def load_texts(language: str) -> dict:
    return yaml.safe_load((HERE / "i18n" / f"{language}.yml").read_text(encoding="utf-8"))


@dataclass
class Language:
    code: str
    texts: dict

    @property
    def locale(self) -> str:
        return self.texts["locale"]

    def t(self, key: str, **values) -> str:
        node = self.texts
        for part in key.split("."):
            node = node[part]
        return node.format(**values) if values else node

    def label(self, kind: str, code) -> str:
        return self.texts["codes"][kind].get(code, code)

    def count(self, n) -> str:
        return self.t("site.suppressed") if n is None else format_decimal(n, locale=self.locale)

    def number(self, x, digits: int = 1) -> str:
        if x is None:
            return self.t("site.suppressed")
        return format_decimal(round(x, digits), format=f"#,##0.{'0' * digits}", locale=self.locale)

    def share(self, x) -> str:
        return self.t("site.suppressed") if x is None else format_percent(x, format="#,##0.0%", locale=self.locale)

    def quarter(self, start: dt.date) -> str:
        return self.t("site.quarter", q=(start.month - 1) // 3 + 1, year=start.year)


def read_public_marts(serving_path: Path) -> dict:
    """Every row the site shows, from the public marts only (ISO dates, nulls kept as null)."""
    if not serving_path.exists():
        raise SiteError(f"no serving copy at {serving_path}: run the main job first (make demo)")
    con = duckdb.connect(str(serving_path), read_only=True)
    try:

        def rows(table: str) -> list[dict]:
            cur = con.execute(f"select * from public_marts.{table} order by all")
            names = [d[0] for d in cur.description]
            return [
                {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in zip(names, r, strict=True)}
                for r in cur.fetchall()
            ]

        data = {name: {g: rows(f"{t}_{g}ly") for g in ("month", "quarter")} for name, t in TABLES.items()}
        data.update({name: {"quarter": rows(t)} for name, t in QUARTERLY_ONLY.items()})
        # repeat contacts by place (program vs police) and of people, as one chart: a series per group and window
        data["repeat"] = {
            "quarter": [
                {**r, "series": f"{r['comparison_group']}_{r['window_days']}"}
                for r in rows("pub_repeat_contacts_quarterly")
            ]
            + [{**r, "series": f"people_{r['window_days']}"} for r in rows("pub_repeat_contacts_people_quarterly")]
        }
    finally:
        con.close()
    return data


def latest_quarter(data: dict) -> str | None:
    quarters = sorted({r["period_start"] for r in data["eligible"]["quarter"]})
    return quarters[-1] if quarters else None


def rows_of(data: dict, name: str, period: str, grain: str = "quarter") -> list[dict]:
    return [r for r in data[name][grain] if r["period_start"] == period]


# ---- Major Questions: one answer sentence each, from the latest quarter's published numbers ----


def answer(question: str, data: dict, period: str, lang: Language) -> str | None:
    """The one-sentence answer, or None when a number it needs is withheld or missing."""
    q = lang.quarter(dt.date.fromisoformat(period))
    try:
        if question == "reach":
            by = {r["status"]: r for r in rows_of(data, "eligible", period)}
            served, forgone = by["served"], by["forgone"]
            eligible = served["incidents"] + forgone["incidents"]
            return lang.t(
                "questions.reach.answer",
                quarter=q,
                served=lang.count(served["incidents"]),
                eligible=lang.count(eligible),
                share=lang.share(served["share_of_eligible"]),
            )
        if question == "speed":
            by = {r["team"]: r for r in rows_of(data, "response", period)}
            team, police = by["crt"]["median_minutes"], by["police_on_eligible"]["median_minutes"]
            if team is None or police is None:
                return None
            return lang.t(
                "questions.speed.answer", quarter=q, team_median=lang.number(team), police_median=lang.number(police)
            )
        if question == "police":
            by = {r["request_type"]: r for r in rows_of(data, "backup", period)}
            backup, concurrent = by["police_backup"], by["concurrent_police_dispatch"]
            if concurrent["rate"] is None:
                return None
            if backup["rate"] is None:  # backup requests are rare: a quarter's count is often withheld
                return lang.t(
                    "questions.police.answer_backup_withheld", quarter=q, concurrent_rate=lang.share(concurrent["rate"])
                )
            return lang.t(
                "questions.police.answer",
                quarter=q,
                backup_rate=lang.share(backup["rate"]),
                concurrent_rate=lang.share(concurrent["rate"]),
            )
        if question == "outcomes":
            published = [r for r in rows_of(data, "outcomes", period) if r["incidents"] is not None]
            top = max(published, key=lambda r: r["incidents"])
            total = sum(r["incidents"] for r in published)
            return lang.t(
                "questions.outcomes.answer",
                quarter=q,
                outcome=lang.label("primary_outcome", top["primary_outcome"]),
                outcome_share=lang.share(top["incidents"] / total),
            )
        if question == "gaps":
            forgone = {r["status"]: r for r in rows_of(data, "eligible", period)}["forgone"]["incidents"]
            reasons = [r for r in rows_of(data, "forgone_reason", period) if r["forgone_incidents"] is not None]
            top = max(reasons, key=lambda r: r["forgone_incidents"])
            beats = [r for r in rows_of(data, "forgone_beat", period) if r["forgone_incidents"] is not None]
            beat = max(beats, key=lambda r: (r["forgone_incidents"], r["beat"]))["beat"]
            return lang.t(
                "questions.gaps.answer",
                quarter=q,
                forgone=lang.count(forgone),
                reason=lang.label("reason", top["reason"]),
                reason_share=lang.share(top["forgone_incidents"] / forgone),
                beat=beat,
            )
        if question == "time":
            (row,) = rows_of(data, "time_saved", period)
            if row["is_suppressed"]:
                return None
            return lang.t(
                "questions.time.answer",
                quarter=q,
                hours=lang.number(row["police_hours_saved"], 0),
                incidents=lang.count(row["served_eligible_911_incidents"]),
            )
        if question == "quality":
            by = {r["indicator"]: r for r in rows_of(data, "quality", period)}
            linked, missing, late = (
                by[k]["value"]
                for k in ("encounters_linked_to_cad", "program_responses_missing_a_time", "encounters_entered_late")
            )
            if linked is None or missing is None or late is None:
                return None
            return lang.t(
                "questions.quality.answer",
                quarter=q,
                linked=lang.share(linked),
                missing=lang.share(missing),
                late=lang.share(late),
            )
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None  # a number the sentence needs is withheld or absent: say so, never guess
    raise ValueError(f"unknown question {question}")


def latest_answer(question: str, data: dict, lang: Language) -> tuple[str | None, str | None]:
    """(quarter, answer) from the latest quarter whose published numbers answer the question."""
    for period in sorted({r["period_start"] for r in data["eligible"]["quarter"]}, reverse=True):
        text = answer(question, data, period, lang)
        if text:
            return lang.quarter(dt.date.fromisoformat(period)), text
    return None, None


# ---- charts: plotly figures as plain dicts; a withheld cell is drawn as a labelled marker at zero ----

# question -> (public mart, series column, value column, code list of the series, chart kind, axis, format)
QUESTION_CHARTS = {
    "reach": ("eligible", "status", "incidents", "status", "bar", "incidents", ",d"),
    "speed": ("response", "team", "median_minutes", "team", "line", "minutes", ".1f"),
    "police": ("backup", "request_type", "rate", "request_type", "line", "share", ".1%"),
    "outcomes": ("outcomes", "primary_outcome", "incidents", "primary_outcome", "bar", "incidents", ",d"),
    "gaps": ("forgone_reason", "reason", "forgone_incidents", "reason", "bar", "incidents", ",d"),
    "time": ("time_saved", None, "police_hours_saved", None, "bar", "hours", ",.0f"),
    "quality": ("quality", "indicator", "value", "indicator", "line", "share", ".1%"),
}


def series(rows: list[dict], key: str | None, value: str) -> dict[str | None, list[tuple[str, object]]]:
    """{series code: [(period_start, value or None when withheld)]}, in period order. A value that is
    null but not withheld (nothing to measure yet, an input not recorded) is no point at all."""
    out: dict[str | None, list[tuple[str, object]]] = {}
    for r in sorted(rows, key=lambda r: r["period_start"]):
        if r[value] is None and r.get("is_suppressed") is False:
            continue
        out.setdefault(r[key] if key else None, []).append((r["period_start"], r[value]))
    return out


def traces(name: str, points: list[tuple[str, object]], kind: str, lang: Language) -> list[dict]:
    """The published values as bars or a line, and a marker at zero, labelled, for each withheld one."""
    x = lambda p: lang.quarter(dt.date.fromisoformat(p))  # noqa: E731
    shown = [(x(p), v) for p, v in points if v is not None]
    hidden = [x(p) for p, v in points if v is None]
    out = [
        {"type": "bar", "name": name, "x": [p for p, _ in shown], "y": [v for _, v in shown]}
        if kind == "bar"
        else {  # a withheld period breaks the line: no slope drawn through a number nobody published
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": [x(p) for p, _ in points],
            "y": [v for _, v in points],
        }
    ]
    if hidden:
        withheld = lang.t("site.suppressed")
        out.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": f"{name}: {withheld}",
                "x": hidden,
                "y": [0] * len(hidden),
                "text": [withheld] * len(hidden),
                "textposition": "top center",
                "marker": {"symbol": "x-thin-open", "size": 10, "color": "#555"},
                "hovertemplate": f"%{{x}}: {withheld}<extra>{html.escape(name)}</extra>",
                "showlegend": not shown,  # a series withheld throughout still says it exists
            }
        )
    return out


def question_chart(question: str, data: dict, lang: Language) -> tuple[dict, list[tuple[str, str, str]], str]:
    """The question's plotly figure, the same numbers as table rows (series, quarter, value), and the
    values' axis title."""
    mart, key, value, codes, kind, axis, fmt = QUESTION_CHARTS[question]
    rows = data[mart]["quarter"]
    if question == "police":
        rows = [r for r in rows if r["request_type"] != "ems"]
    title = lang.t(f"questions.{question}.chart")
    figure_data, table = [], []
    show = {"incidents": lang.count, "minutes": lang.number, "share": lang.share, "hours": lambda v: lang.number(v, 0)}
    for code, points in series(rows, key, value).items():
        name = lang.label(codes, code) if codes else title
        figure_data += traces(name, points, kind, lang)
        table += [(name, lang.quarter(dt.date.fromisoformat(p)), show[axis](v)) for p, v in points]
    layout = {
        "title": {"text": title},
        "xaxis": {
            "title": {"text": lang.t("axes.period")},
            "type": "category",
            # periods in time order, whichever series first has a value there
            "categoryorder": "array",
            "categoryarray": [
                lang.quarter(dt.date.fromisoformat(p)) for p in sorted({r["period_start"] for r in rows})
            ],
        },
        "yaxis": {"title": {"text": lang.t(f"axes.{axis}")}, "rangemode": "tozero", "tickformat": fmt},
        "separators": lang.t("chart_separators"),
        "legend": {"orientation": "h", "y": -0.3},
        "margin": {"t": 60, "l": 70, "r": 20, "b": 90},
        "height": 440,
        "barmode": "stack",
    }
    return {"data": figure_data, "layout": layout}, table, lang.t(f"axes.{axis}")


# ---- quarterly data cards ----


def card_numbers(data: dict, period: str, lang: Language) -> dict[str, str]:
    """The card's highlights for one quarter, formatted for the language (withheld: "fewer than 11")."""
    eligible = {r["status"]: r for r in rows_of(data, "eligible", period)}
    served = eligible.get("served", {})
    forgone = eligible.get("forgone", {})
    volume = [r["incidents"] for r in rows_of(data, "volume", period) if r["served_by_team"] != "not_served"]
    response = {r["team"]: r for r in rows_of(data, "response", period)}
    outcomes = [r for r in rows_of(data, "outcomes", period) if r["incidents"] is not None]
    outcome_total = sum(r["incidents"] for r in outcomes)
    top = sorted(outcomes, key=lambda r: (-r["incidents"], r["primary_outcome"]))[:3]
    referred = next(
        (r["incidents"] for r in rows_of(data, "outcomes", period) if r["primary_outcome"] == "referred"), 0
    )
    backup = {r["request_type"]: r for r in rows_of(data, "backup", period)}.get("police_backup", {})
    both = served.get("incidents") is not None and forgone.get("incidents") is not None
    return {
        # a withheld cell makes the sum unknown: say so rather than print a total that is too small
        "volume": lang.count(sum(volume))
        if None not in volume
        else lang.t("site.at_least", n=lang.count(sum(v or 1 for v in volume))),
        "eligible": lang.count(served["incidents"] + forgone["incidents"]) if both else lang.t("site.suppressed"),
        "share_served": lang.share(served.get("share_of_eligible")),
        "median_response": lang.number(response.get("crt", {}).get("median_minutes")),
        "outcomes": [
            (lang.label("primary_outcome", r["primary_outcome"]), lang.share(r["incidents"] / outcome_total))
            for r in top
        ],
        "referrals": lang.count(referred),
        "backup": lang.t("site.not_recorded")
        if backup and not backup["is_recorded"]
        else lang.share(backup.get("rate")),
    }


def quarter_key(period: str) -> str:
    start = dt.date.fromisoformat(period)
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def city_site_settings(city_dir: Path | None) -> dict:
    path = Path(city_dir) / SITE_SETTINGS_FILE if city_dir else None
    if path and path.exists():
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {}


def note_for(settings: dict, period: str, language: str) -> str | None:
    notes = settings.get("notes") or {}
    return (notes.get(quarter_key(period)) or notes.get("default") or {}).get(language)


# ---- the site ----


def _cards_index(site: Path | None) -> dict:
    """What the previous site's cards were (CARDS_INDEX); nothing when there is none or it is unreadable."""
    try:
        return json.loads((site / "cards" / CARDS_INDEX).read_text(encoding="utf-8")) if site else {}
    except (OSError, ValueError):
        return {}


def chromium_path() -> str | None:
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    return path if Path(path).exists() else shutil.which("chromium")


def print_pdfs(pages: list[tuple[Path, Path]], browser: str) -> None:
    """Printable pages to PDF, (page, pdf) each, in one headless Chromium driven by Playwright (the page's
    own print styles and backgrounds apply). One browser for all: starting Chromium once per card took
    about 1.2 s a card, 90 s for the 80 cards of ten years; a page in a running browser takes 0.2 s.
    Playwright's sync API refuses a thread that runs an asyncio loop (a caller may), so it gets its own."""
    if pages:
        with ThreadPoolExecutor(max_workers=1) as printer:
            printer.submit(_print_in_one_browser, pages, browser).result()


def _print_in_one_browser(pages: list[tuple[Path, Path]], browser: str) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=browser,
                # root in containers (the pages are our own files); no network, no GPU
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            try:
                tab = chromium.new_page()
                for page, pdf in pages:
                    tab.goto(page.resolve().as_uri(), wait_until="load")
                    tab.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)
            finally:
                chromium.close()
    except PlaywrightError as exc:
        raise SiteError(f"printing the data cards with {browser} failed: {exc}") from exc


CARDS_INDEX = "_cards.json"  # per card: the digest of its page (its stamp left out) and its stamp


def build_site(
    serving_path: Path,
    out_dir: Path,
    city_dir: Path | None = None,
    pdf: bool = True,
    progress: Callable[[str], None] = print,
    previous: Path | None = None,
) -> dict:
    """Write the site into out_dir (which must not exist). Returns what was written. A card whose page is
    the same as in the `previous` site (all but the publish stamp; same stylesheets) keeps that site's stamp and PDF:
    with one new day only the newest quarter changes, and only its cards are printed."""
    import plotly

    data = read_public_marts(Path(serving_path))
    period = latest_quarter(data)
    if period is None:
        raise SiteError("the public marts hold no quarter yet: nothing to show")
    browser = chromium_path() if pdf else None
    if pdf and browser is None:
        raise SiteError(
            "the PDF data cards need Chromium: run `bash scripts/browser_setup.sh` (Debian package) or set "
            f"{CHROMIUM_ENV} to a Chromium binary; ALT911_SITE_PDF=false builds the HTML only"
        )
    settings = city_site_settings(city_dir)
    published = dt.datetime.fromtimestamp(Path(serving_path).stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined)
    out_dir = Path(out_dir)
    (out_dir / "assets").mkdir(parents=True)
    (out_dir / "questions").mkdir()
    (out_dir / "cards").mkdir()
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out_dir / "assets" / "plotly.min.js")
    for asset in (HERE / "assets").iterdir():
        shutil.copy(asset, out_dir / "assets" / asset.name)

    en = Language("en", load_texts("en"))
    langs = {code: (en if code == "en" else Language(code, load_texts(code))) for code in LANGUAGES}
    city_name = read_city_file(Path(city_dir)).get("city_name", "") if city_dir else ""
    program = {code: (settings.get("program_name") or {}).get(code) or city_name or "alt911" for code in LANGUAGES}
    common = dict(
        program=program["en"],
        generated=en.t("site.generated", date=dt.date.today().isoformat(), published=published),
        lang=en,
    )

    def write(path: str, template: str, **context) -> None:
        (out_dir / path).write_text(env.get_template(template).render(**common, **context), encoding="utf-8")

    quarters = sorted({r["period_start"] for r in data["eligible"]["quarter"]}, reverse=True)
    questions = []
    for q in QUESTIONS:
        figure, table, axis = question_chart(q, data, en)
        answered_in, text = latest_answer(q, data, en)
        questions.append(dict(slug=q, title=en.t(f"questions.{q}.title"), answer=text, quarter=answered_in))
        write(
            f"questions/{q}.html",
            "question.html",
            root="../",
            question=questions[-1],
            figure=json.dumps(figure),
            table=table,
            axis=axis,
        )
    progress(f"site: {len(QUESTIONS)} Major Questions pages")

    earlier = _cards_index(previous)
    styles = hashlib.sha256()  # a card's PDF depends on the stylesheets too, not only on its page
    for asset in sorted((HERE / "assets").iterdir()):
        styles.update(asset.name.encode() + asset.read_bytes())
    cards, index, to_print = [], {}, []
    for p in quarters:
        entry = dict(key=quarter_key(p), label=en.quarter(dt.date.fromisoformat(p)), files={})
        for code, lang in langs.items():
            name = f"{entry['key']}.{code}"
            entry["files"][code] = name
            card = functools.partial(
                env.get_template("card.html").render,
                root="../",
                lang=lang,
                program=program[code],
                quarter=lang.quarter(dt.date.fromisoformat(p)),
                numbers=card_numbers(data, p, lang),
                note=note_for(settings, p, code),
                other=f"{entry['key']}.{'es' if code == 'en' else 'en'}.html",
                pdf=f"{name}.pdf" if pdf else None,
            )
            digest = hashlib.sha256(card(published="").encode() + styles.digest()).hexdigest()
            # Same numbers and words as the previous site: its stamp (these numbers were first published
            # then, and still are) and its PDF, byte for byte.
            kept_pdf = previous / "cards" / f"{name}.pdf" if previous and pdf else None
            keep = earlier.get(name, {}).get("digest") == digest and (kept_pdf is None or kept_pdf.exists())
            stamp = earlier[name]["published"] if keep else published
            index[name] = {"digest": digest, "published": stamp}
            (out_dir / "cards" / f"{name}.html").write_text(card(published=stamp), encoding="utf-8")
            if pdf and keep:
                shutil.copy(kept_pdf, out_dir / "cards" / f"{name}.pdf")
            elif pdf:
                to_print.append((out_dir / "cards" / f"{name}.html", out_dir / "cards" / f"{name}.pdf"))
        cards.append(entry)
    print_pdfs(to_print, browser)
    (out_dir / "cards" / CARDS_INDEX).write_text(json.dumps(index, indent=1), encoding="utf-8")
    progress(
        f"site: {len(cards)} quarterly data cards in {len(LANGUAGES)} languages"
        + (f" (HTML and PDF; {len(to_print)} PDF(s) printed, the others unchanged since the last site)" if pdf else "")
    )

    texts = {k: en.texts[k] for k in ("site", "dashboard", "axes", "codes", "chart_separators")}
    write("index.html", "dashboard.html", root="", data=json.dumps(data), texts=json.dumps(texts), questions=questions)
    write("questions/index.html", "questions.html", root="../", questions=questions)
    write("cards/index.html", "cards.html", root="../", cards=cards)
    pages = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*.html"))
    progress(f"site: {len(pages)} pages written")
    return {"pages": pages, "latest_quarter": quarter_key(period), "cards": [c["key"] for c in cards]}
