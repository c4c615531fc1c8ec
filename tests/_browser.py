"""Shared browser helpers: Debian's Chromium driven by Playwright, every network request blocked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Page:
    """A page opened with every non-file request aborted, collecting console errors."""

    def __init__(self, browser, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console",
                      lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.goto(url)
        self.page.wait_for_selector("html[data-ccamap-ready]", timeout=15000)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def js(self, expression: str, arg: object = None):
        return self.page.evaluate(expression, arg)

    def count(self) -> int:
        return int(self.page.locator(".ccamap-count").inner_text().split(" of ")[0])

    def paths(self) -> int:
        """SVG paths drawn in the main map's overlay pane (not the mini-map)."""
        return int(self.js("() => ccamap.map.getPanes().overlayPane"
                           ".querySelectorAll('path.leaflet-interactive').length"))

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium for a module's tests (skipped where Chromium is missing, except in CI)."""
    if not Path(CHROMIUM).exists():  # pragma: no cover
        if os.environ.get("CI"):
            raise RuntimeError("CI needs Debian's chromium: apt-get install chromium")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory) -> Path:
    """The bundled geodata built once for every browser test (the default build: offline)."""
    from ccamap.pipeline import build

    out = tmp_path_factory.mktemp("bundled-site")
    build(Path(__file__).resolve().parents[1] / "geodata", out)
    return out


@pytest.fixture(scope="session")
def bundled_data():
    """The bundled geodata, loaded (validated and joined) once."""
    from ccamap.pipeline import load

    return load(Path(__file__).resolve().parents[1] / "geodata")


@pytest.fixture
def index(browser, bundled_site) -> Iterator[Page]:
    """The overview page, checked afterwards for console errors and network requests."""
    page = Page(browser, (bundled_site / "index.html").as_uri())
    yield page
    assert page.errors == [], page.errors
    assert page.requests == [], f"network requests made offline: {page.requests}"
    page.close()
