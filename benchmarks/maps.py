"""Measure ccamap's overview map against ``geopandas.explore()`` on the same layers, in Chromium.

For each page, side by side in one run: the HTML size and the time from navigation to every
feature drawn (median of several loads). CDN requests are answered from installed packages
(xstatic-leaflet, xstatic-jquery) and anything else is answered empty, so no network is used.

Usage: python benchmarks/maps.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import xstatic.pkg.leaflet as xleaflet
from playwright.sync_api import Route, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import ccamap  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LEAFLET = Path(xleaflet.BASE_DIR)


def serve_from_packages(route: Route) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:", "about:")):
        route.continue_()
    elif url.endswith("leaflet@1.9.3/dist/leaflet.js"):
        route.fulfill(body=(LEAFLET / "leaflet.js").read_bytes(),
                      content_type="application/javascript")
    elif url.endswith("leaflet@1.9.3/dist/leaflet.css"):
        route.fulfill(body=(LEAFLET / "leaflet.css").read_bytes(), content_type="text/css")
    elif "jquery" in url:
        try:
            import xstatic.pkg.jquery as xjquery

            body = (Path(xjquery.BASE_DIR) / "jquery.min.js").read_bytes()
        except ImportError:
            body = b""
        route.fulfill(body=body, content_type="application/javascript")
    else:  # tiles, bootstrap, fonts: not needed to draw features
        route.fulfill(body=b"", status=200)


def explore_page(layers: dict[str, gpd.GeoDataFrame], out: Path) -> Path:
    """The same layers drawn by geopandas.explore(), one call per layer on one map."""
    m = None
    for name, gdf in layers.items():
        flat = gdf.copy()
        for col in flat.columns:
            if col != "geometry" and flat[col].map(lambda v: isinstance(v, list)).any():
                flat[col] = flat[col].map(lambda v: "; ".join(map(str, v)) if v else None)
        m = flat.explore(m=m, name=name, tooltip="name", popup=True)
    path = out / "explore.html"
    m.save(str(path))
    return path


def time_to_drawn(browser, url: str, total: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route("**/*", serve_from_packages)
        page.goto(url)
        page.wait_for_function(
            """(n) => {
                const shapes = document.querySelectorAll(
                    '.leaflet-overlay-pane path.leaflet-interactive, .leaflet-marker-pane > *');
                return shapes.length >= n;
            }""",
            arg=total, polling="raf", timeout=30000)
        times.append(page.evaluate("() => performance.now()"))
        page.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = ccamap.load(REPO / "geodata")
    total = sum(len(g) for g in data.layers.values())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ccamap.build(REPO / "geodata", root / "online", cdn=True)
        ccamap.build(REPO / "geodata", root / "offline")
        explore = explore_page(data.layers, root)
        pages = {
            "ccamap online": root / "online" / "index.html",
            "ccamap offline": root / "offline" / "index.html",
            "geopandas.explore": explore,
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            results = {name: (path.stat().st_size,
                              time_to_drawn(browser, path.as_uri(), total, args.runs))
                       for name, path in pages.items()}
            browser.close()
    print(f"{total} features, median of {args.runs} loads in Chromium")
    print(f"{'page':<20}{'HTML bytes':>12}{'to drawn (ms)':>16}")
    for name, (size, ms) in results.items():
        print(f"{name:<20}{size:>12,}{ms:>16.0f}")
    base_size, base_ms = results["geopandas.explore"]
    for name in ("ccamap online", "ccamap offline"):
        size, ms = results[name]
        print(f"{name} / explore: size {size / base_size:.2f}x, time {ms / base_ms:.2f}x")


if __name__ == "__main__":
    main()
