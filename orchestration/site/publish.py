"""Publish the public site beside the serving copy: built whole in a hidden folder, then switched in
with one atomic rename of the `serving/site` link, so a reader never sees half a site."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from orchestration.serving.publish import switch_link
from orchestration.settings import Settings
from orchestration.site.build import build_site

KEEP_SITES = 3  # a reader may still be reading the previous one


def publish_site(settings: Settings, run_id: str, progress: Callable[[str], None] = print) -> dict:
    """Build the site from the published serving copy and switch `serving/site` to it."""
    releases = settings.serving_dir / "site_releases"
    releases.mkdir(parents=True, exist_ok=True)
    for leftover in releases.glob(".*.partial"):  # a build that crashed half way
        shutil.rmtree(leftover, ignore_errors=True)
    name = f"{run_id}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    partial = releases / f".{name}.partial"
    current = settings.site_dir.resolve() if settings.site_dir.is_symlink() else None  # its unchanged cards are kept
    result = build_site(
        settings.serving_path, partial, settings.city_dir, pdf=settings.site_pdf, progress=progress, previous=current
    )
    partial.rename(releases / name)
    switch_link(settings.serving_dir, "site", Path("site_releases") / name)
    progress(f"site: published {settings.site_dir / 'index.html'}")
    old = sorted((p for p in releases.iterdir() if p.is_dir() and p.name != name), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - (KEEP_SITES - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    return {**result, "site": str(settings.site_dir), "release": name}
