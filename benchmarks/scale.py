"""ccamap at scale, side by side with ``geopandas.explore`` in the same run.

Generates valid synthetic geodata from a fixed seed (N railways: random walks of 50–500 vertices
inside Kazakhstan, and N power plants; every record and vertex sourced; coordinates at
``--decimals`` decimals, 5 by default: explore's pages carry them as written, ccamap's pages at
5), then measures:

- ``ccamap validate`` and ``ccamap build`` in fresh processes: wall and CPU time, peak RSS;
- the railways page and the power plants page: bytes, bytes per vertex; the overview's bytes; in
  Chromium with the network blocked, the time from navigation to every feature drawn, one zoom
  step, and a card opened from a click (a ccamap page is drawn once ``ccamap.ready`` is set and,
  after a zoom, once ``ccamap.whenDrawn`` calls back: its drawing helper's part is in too);
- the same railways and power plants layers through ``geopandas.explore`` (build time, page
  bytes, drawn, zoom);
- the level of detail's error in pixels per zoom band, if ``ccamap.render`` has ``lod_bands``
  (and ``lod_error_px``, measured on the railways), else "n/a";

and prints ccamap/explore ratios. ``--json FILE`` writes the figures too. ``--generate-only DIR``
only writes the synthetic geodata (``DIR/geodata-N``), for other benchmarks and profiling.

The ccamap measured is the one this script imports: this checkout's ``src``, or the one on
``PYTHONPATH`` when it is set (``PYTHONPATH=/other/checkout/src python benchmarks/scale.py``
measures that code on the same data); the fresh processes use the same one.

Usage: python benchmarks/scale.py [--sizes 1000 10000] [--large] [--decimals 5] [--json out.json]
       python benchmarks/scale.py --sizes 1000 --generate-only /tmp/geodata
(``--large`` adds 100,000 lines; needs ``pip install -e '.[bench]'``.)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))
# imported before maps.py, which puts this checkout's src first on sys.path
ccamap = importlib.import_module("ccamap")

from maps import ARGS, serve_from_packages  # noqa: E402

from ccamap.layers import LAYERS, STATUSES  # noqa: E402

#: The ccamap measured: the fresh processes import the same one as this script.
CCAMAP_SRC = str(Path(ccamap.__file__).resolve().parents[1])

SEED = 20261123
BOX = (62.0, 44.5, 78.0, 49.5)  # inside Kazakhstan: every walk stays in one country


def _walk(rng: random.Random, n: int, decimals: int = 5) -> list[list[float]]:
    x, y = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
    heading = rng.uniform(0, 2 * math.pi)
    out = []
    for _ in range(n):
        out.append([round(x, decimals), round(y, decimals)])
        heading += rng.gauss(0, 0.35)
        step = rng.uniform(0.004, 0.02)
        x, y = x + step * math.cos(heading), y + step * math.sin(heading)
        if not BOX[0] < x < BOX[2]:
            heading = math.pi - heading
            x = min(max(x, BOX[0] + 0.01), BOX[2] - 0.01)
        if not BOX[1] < y < BOX[3]:
            heading = -heading
            y = min(max(y, BOX[1] + 0.01), BOX[3] - 0.01)
    return out


def generate(root: Path, n: int, decimals: int = 5) -> int:
    """Write synthetic geodata for ``n`` lines and ``n`` points; return the vertex count.

    Coordinates have ``decimals`` decimals (17: as computed, full float precision); the walks
    are the same at every precision.
    """
    rng = random.Random(SEED + n)
    root.mkdir(parents=True)
    shutil.copy(REPO / "geodata" / "boundaries.geojson", root)
    with (root / "sources.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "publisher", "date", "url", "kind"])
        w.writerow(["bench", "Synthetic benchmark data", "ccamap", "2026",
                    "https://example.org/bench", "dataset"])
    vertices = 0
    statuses = [s for s in STATUSES if s != "announced"]
    for name, layer in LAYERS.items():
        features, rows = [], []
        count = n if name in ("railways", "power_plants") else 0
        for i in range(count):
            fid = f"{'rail' if layer.is_line else 'pp'}-s{i:06d}"
            if layer.is_line:
                coords = _walk(rng, rng.randint(50, 500), decimals)
                geom = {"type": "LineString", "coordinates": coords}
            else:
                coords = [_walk(rng, 1, decimals)[0]]
                geom = {"type": "Point", "coordinates": coords[0]}
            vertices += len(coords)
            features.append({"type": "Feature", "geometry": geom, "properties": {
                "id": fid, "waypoints": [f"P{j}" for j in range(len(coords))],
                "coordinate_sources": ["bench"] * len(coords)}})
            row = dict.fromkeys(layer.columns, "")
            row.update(id=fid, name=f"Synthetic {fid}", countries="KAZ",
                       status=rng.choice(statuses), status_year=str(rng.randint(2000, 2025)),
                       description="Synthetic feature for the scale benchmark.",
                       geometry_precision="schematic" if layer.is_line else "approximate",
                       sources="bench", field_sources="status=bench; status_year=bench")
            if layer.is_line:
                row["route_error_km"] = "1"
                row["field_sources"] += "; route_error_km=bench"
            if name == "power_plants":
                row.update(technology=rng.choice(["wind", "solar", "hydro", "gas"]),
                           capacity=str(rng.randint(5, 1000)), capacity_unit="MW")
                row["field_sources"] += "; technology=bench; capacity=bench"
            rows.append(row)
        (root / f"{name}.geojson").write_text(json.dumps(
            {"type": "FeatureCollection", "features": features}), encoding="utf-8")
        with (root / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=layer.columns)
            w.writeheader()
            w.writerows(rows)
    return vertices


_WRAPPER = """
import atexit, json, os, resource, sys
def _report():
    u = resource.getrusage(resource.RUSAGE_SELF)
    # ru_maxrss keeps the high-water mark of the memory the process was forked from (this
    # benchmark, holding the generated data); VmHWM is the process's own since its exec
    peak = u.ru_maxrss / 1024**2
    try:
        with open("/proc/self/status") as st:
            peak = next(int(l.split()[1]) for l in st if l.startswith("VmHWM:")) / 1024**2
    except (OSError, StopIteration):
        pass
    with open(os.environ["CCAMAP_BENCH_USAGE"], "w") as fh:
        json.dump({"cpu_s": u.ru_utime + u.ru_stime, "peak_rss_gb": peak}, fh)
atexit.register(_report)
sys.argv = sys.argv[1:]
code = sys.argv.pop(0)
exec(compile(code, "<bench>", "exec"))
"""


def _timed(code: str, args: list[str]) -> dict[str, float]:
    """Run ``code`` in a fresh process: wall and CPU seconds, its own peak RSS (GB), exit."""
    with tempfile.NamedTemporaryFile(suffix=".json") as usage:
        env = dict(os.environ, CCAMAP_BENCH_USAGE=usage.name, PYTHONPATH=CCAMAP_SRC)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, code, *args], env=env,
                              check=False, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        figures = json.loads(Path(usage.name).read_text() or "{}")
    # a process killed (out of memory) reports no usage
    return {"wall_s": wall, "cpu_s": float("nan"), "peak_rss_gb": float("nan"), **figures,
            "exit": proc.returncode}


def run(args: list[str]) -> dict[str, float]:
    """A ccamap command in a fresh process."""
    code = ("import sys; from ccamap.cli import main; sys.argv = ['ccamap', *sys.argv]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    sys.exit(e.code)")
    return _timed(code, args)


def explore_build(root: Path, out: Path, layer: str = "railways") -> dict[str, float]:
    """geopandas.explore of one layer alone, in a fresh process."""
    extra = ", 'technology', 'capacity'" if layer == "power_plants" else ""
    code = (
        "import geopandas as gpd, pandas as pd\n"
        f"g = gpd.read_file({str(root / f'{layer}.geojson')!r})\n"
        f"a = pd.read_csv({str(root / f'{layer}.csv')!r}, dtype=str)\n"
        "g = g[['id', 'geometry']].merge(a[['id', 'name', 'status', 'status_year', "
        f"'description'{extra}]], on='id')\n"
        f"g.explore(tooltip='name', popup=True).save({str(out)!r})\n"
    )
    return _timed(code, [])


def lod_errors(root: Path) -> dict[str, Any] | None:
    """The level of detail's bands and error in pixels, if this ccamap has them (else None)."""
    render = importlib.import_module("ccamap.render")
    bands = getattr(render, "lod_bands", None)
    if bands is None:
        return None
    import geopandas as gpd

    out: dict[str, Any] = {"bands": [
        {"zooms": f"{b.min_zoom}-{b.max_zoom}", "tolerance_m": b.tolerance_m,
         "max_error_px": b.max_error_px} for b in bands()]}
    measure_px = getattr(render, "lod_error_px", None)
    if measure_px is not None:
        lines = gpd.read_file(root / "railways.geojson").geometry.to_numpy()
        for band, px in zip(out["bands"], measure_px(lines), strict=True):
            band["measured_px"] = px
    return out


def _failed(reason: str) -> dict[str, Any]:
    nan = float("nan")
    return {"drawn_ms": nan, "picture_ms": nan, "zoom_ms": nan, "card_ms": nan, "error": reason}


def in_browser(browser: Any, url: str, total: int, *, ccamap_page: bool) -> dict[str, Any]:
    """Time to every feature drawn, one zoom step, and (ccamap) a card after a click.

    A page the browser cannot draw (an error in the page, a crash, or nothing drawn within ten
    minutes: a page too large for it) gives NaN figures and the reason, under ``error``.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        return _in_page(page, url, total, ccamap_page=ccamap_page)
    except Exception as exc:  # any failure of the page is a result to report
        return _failed(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        with contextlib.suppress(Exception):  # a crashed page may not close
            page.close()


def _in_page(page: Any, url: str, total: int, *, ccamap_page: bool) -> dict[str, Any]:
    page.route("**/*", serve_from_packages)
    page.add_init_script("window.addEventListener('error', (e) => {"
                         " window.__benchError = String(e.message || e); });")
    page.goto(url, timeout=600_000)
    page.wait_for_function(
        """(n) => window.__benchError || (window.ccamap ? window.ccamap.ready : true) && (
            document.querySelector('.leaflet-overlay-pane canvas') !== null
            || document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive,'
                                         + ' .leaflet-marker-pane > *').length >= n)""",
        arg=total, polling="raf", timeout=600_000)
    error = page.evaluate("() => window.__benchError || null")
    if error:
        return _failed(f"error in the page: {error}")
    drawn = page.evaluate("() => performance.now()")
    # ccamap: when its lines were first on screen as detailed as they stay at the opening zoom
    # (a large layer's first part; filters, search and cards come with `drawn`)
    picture = page.evaluate("() => window.ccamap && ccamap.drawnAt || null") or drawn
    zoom = page.evaluate("""() => new Promise((done) => {
        const map = window.ccamap ? window.ccamap.map : Object.values(window).find(
            (v) => v && v._container && v.getZoom);
        const t0 = performance.now();
        // ccamap: until its drawing helper's part of the canvas is in too (asked a frame on: the
        // canvas is drawn at the frame after the zoom's end, and a helper's part comes later)
        const drawn = window.ccamap && ccamap.whenDrawn ? ccamap.whenDrawn : (f) => f();
        map.once('zoomend', () => requestAnimationFrame(() => drawn(() => requestAnimationFrame(
            () => requestAnimationFrame(() => done(performance.now() - t0))))));
        map.setZoom(map.getZoom() + 1, {animate: false});
    })""")
    card = float("nan")
    if ccamap_page:  # from the call to the card in the DOM, timed in the page
        card = page.evaluate("""() => new Promise((done) => {
            const t0 = performance.now();
            ccamap.focusId(ccamap.entries[0].feature.properties.id);
            const check = () => document.querySelector('.ccamap-card')
                ? done(performance.now() - t0) : requestAnimationFrame(check);
            check();
        })""")
    return {"drawn_ms": drawn, "picture_ms": picture, "zoom_ms": zoom, "card_ms": card}


def measure(n: int, tmp: Path, browser: Any, decimals: int = 5) -> dict[str, Any]:
    root = tmp / f"geodata-{n}"
    vertices = generate(root, n, decimals)
    line_vertices = sum(len(f["geometry"]["coordinates"]) for f in json.loads(
        (root / "railways.geojson").read_text(encoding="utf-8"))["features"])
    out = tmp / f"maps-{n}"
    result: dict[str, Any] = {"lines": n, "points": n, "vertices": vertices,
                              "decimals": decimals}
    result["validate"] = run(["validate", "--geodata", str(root)])
    result["build"] = run(["build", "--geodata", str(root), "--out", str(out)])
    if result["build"]["exit"] != 0:
        msg = f"ccamap build of the synthetic data failed (exit {result['build']['exit']})"
        raise SystemExit(msg)
    page, points = out / "railways.html", out / "power_plants.html"
    result["line_vertices"] = line_vertices
    result["railways_page_bytes"] = page.stat().st_size
    result["bytes_per_vertex"] = page.stat().st_size / line_vertices
    result["points_page_bytes"] = points.stat().st_size
    result["overview_page_bytes"] = (out / "index.html").stat().st_size
    result["export_bytes"] = sum(p.stat().st_size for p in (out / "export").iterdir())
    result["lod"] = lod_errors(root)
    explore, explore_points = tmp / f"explore-{n}.html", tmp / f"explore-points-{n}.html"
    result["explore_build"] = explore_build(root, explore)
    result["explore_points_build"] = explore_build(root, explore_points, "power_plants")
    result["explore_page_bytes"] = _size(explore)
    result["explore_points_page_bytes"] = _size(explore_points)
    result["ccamap_browser"] = in_browser(browser, page.as_uri(), n, ccamap_page=True)
    result["explore_browser"] = _explore_in(browser, explore, n, result["explore_build"])
    result["ccamap_points_browser"] = in_browser(browser, points.as_uri(), n, ccamap_page=True)
    result["explore_points_browser"] = _explore_in(browser, explore_points, n,
                                                   result["explore_points_build"])
    return result


def _size(path: Path) -> float:
    return path.stat().st_size if path.exists() else float("nan")


def _explore_in(browser: Any, page: Path, n: int, build: dict[str, float]) -> dict[str, Any]:
    if not page.exists():  # explore's build failed (out of memory, at 100k)
        return _failed(f"no page: geopandas.explore exited {build['exit']}")
    return in_browser(browser, page.as_uri(), n, ccamap_page=False)


def report(r: dict[str, Any]) -> None:
    v, b, e, ep = r["validate"], r["build"], r["explore_build"], r["explore_points_build"]
    cb, eb = r["ccamap_browser"], r["explore_browser"]
    cp, epb = r["ccamap_points_browser"], r["explore_points_browser"]
    print(f"\n{r['lines']:,} lines + {r['points']:,} points ({r['vertices']:,} vertices at "
          f"{r['decimals']} decimals; ccamap from {CCAMAP_SRC})")
    print(f"  validate          {v['wall_s']:8.1f} s wall {v['cpu_s']:8.1f} s CPU   "
          f"peak {v['peak_rss_gb']:.2f} GB   exit {v['exit']}")
    print(f"  build (all pages) {b['wall_s']:8.1f} s wall {b['cpu_s']:8.1f} s CPU   "
          f"peak {b['peak_rss_gb']:.2f} GB   exit {b['exit']}")
    print(f"  explore railways  {e['wall_s']:8.1f} s wall {e['cpu_s']:8.1f} s CPU   "
          f"peak {e['peak_rss_gb']:.2f} GB")
    print(f"  explore points    {ep['wall_s']:8.1f} s wall {ep['cpu_s']:8.1f} s CPU   "
          f"peak {ep['peak_rss_gb']:.2f} GB")
    print(f"  railways page     {r['railways_page_bytes']:>12,} B "
          f"({r['bytes_per_vertex']:.1f} B/vertex); explore {r['explore_page_bytes']:,} B")
    print(f"  points page       {r['points_page_bytes']:>12,} B "
          f"({r['points_page_bytes'] / r['points']:.0f} B/point); explore "
          f"{r['explore_points_page_bytes']:,} B")
    print(f"  overview page     {r['overview_page_bytes']:>12,} B; GeoJSON exports "
          f"{r['export_bytes']:,} B")
    print(f"  drawn             ccamap {cb['drawn_ms']:8.0f} ms   explore {eb['drawn_ms']:8.0f} ms"
          f"   (points: ccamap {cp['drawn_ms']:.0f} ms, explore {epb['drawn_ms']:.0f} ms)")
    print(f"  lines on screen   ccamap {cb['picture_ms']:8.0f} ms   explore "
          f"{eb['drawn_ms']:8.0f} ms   (ready for search and cards: `drawn`)")
    print(f"  zoom              ccamap {cb['zoom_ms']:8.0f} ms   explore {eb['zoom_ms']:8.0f} ms"
          f"   (points: ccamap {cp['zoom_ms']:.0f} ms, explore {epb['zoom_ms']:.0f} ms)")
    print(f"  card after click  ccamap {cb['card_ms']:8.0f} ms   (points {cp['card_ms']:.0f} ms)")
    for name, got in (("ccamap railways", cb), ("explore railways", eb), ("ccamap points", cp),
                      ("explore points", epb)):
        if "error" in got:
            print(f"  {name} page not drawn: {got['error']}")
    if r["lod"] is None:
        print("  LOD error         n/a (no ccamap.render.lod_bands)")
    else:
        for band in r["lod"]["bands"]:
            measured = (f", measured {band['measured_px']:.2f} px" if "measured_px" in band
                        else "")
            print(f"  LOD zooms {band['zooms']:<7} tolerance {band['tolerance_m']:9.1f} m, "
                  f"bound {band['max_error_px']:.2f} px{measured}")
    print(f"  ratios ccamap/explore: build {b['wall_s'] / e['wall_s']:.2f}x (CPU "
          f"{b['cpu_s'] / e['cpu_s']:.2f}x), peak RSS {b['peak_rss_gb'] / e['peak_rss_gb']:.2f}x, "
          f"page {r['railways_page_bytes'] / r['explore_page_bytes']:.2f}x, drawn "
          f"{cb['drawn_ms'] / eb['drawn_ms']:.2f}x (on screen "
          f"{cb['picture_ms'] / eb['drawn_ms']:.2f}x), zoom {cb['zoom_ms'] / eb['zoom_ms']:.2f}x")
    print(f"  points ratios: page "
          f"{r['points_page_bytes'] / r['explore_points_page_bytes']:.2f}x, drawn "
          f"{cp['drawn_ms'] / epb['drawn_ms']:.2f}x, zoom {cp['zoom_ms'] / epb['zoom_ms']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--large", action="store_true", help="add 100,000 lines")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--decimals", type=int, default=5,
                        help="decimals of the synthetic coordinates (default 5, what a page "
                             "keeps; 7 as in OpenStreetMap and GEM's traces; 17 as computed)")
    parser.add_argument("--generate-only", type=Path, metavar="DIR",
                        help="only write the synthetic geodata, to DIR/geodata-N for each size")
    args = parser.parse_args()
    sizes = [*args.sizes, *([100_000] if args.large else [])]
    if args.generate_only:
        for n in sizes:
            vertices = generate(args.generate_only / f"geodata-{n}", n, args.decimals)
            print(f"{args.generate_only / f'geodata-{n}'}: {n:,} lines + {n:,} points, "
                  f"{vertices:,} vertices")
        return
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for n in sizes:
            results.append(measure(n, Path(tmp), browser, args.decimals))
            report(results[-1])
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\none run per size (a noisy machine: orders of magnitude are what matter)")


if __name__ == "__main__":
    main()
