"""The whole flow: load → validate → join → render → export, writing outputs atomically."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from ccamap import settings
from ccamap.basemap import load_water
from ccamap.boundaries import Boundaries, load_boundaries
from ccamap.errors import ValidationError
from ccamap.export import check_format, geojson_pieces, to_postgis, write_export
from ccamap.io import pieces_writer, publish_tree, text_writer
from ccamap.join import join_layer
from ccamap.layers import LAYERS, get_layer
from ccamap.readers import gc_paused
from ccamap.render import (
    PreparedBasemap,
    PreparedLayer,
    deterministic_ids,
    outlines_for_display,
    outlines_frame,
    prepare_basemap,
    prepare_layer,
    render_map,
    render_table,
    shared_records,
)
from ccamap.report import Progress, Report
from ccamap.safety import check_output_dir
from ccamap.validate import validate

__all__ = ["BuildResult", "Dataset", "build", "export", "export_postgis", "load", "load_layer",
           "load_outlines", "render_maps"]




def _tell(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


@dataclass
class Dataset:
    """Joined layers with their sources and the validation report."""

    layers: dict[str, gpd.GeoDataFrame]
    sources: pd.DataFrame
    report: Report


@dataclass
class BuildResult:
    """What a build wrote."""

    written: list[Path] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def _names(layers: list[str] | None) -> list[str]:
    return [get_layer(n).name for n in layers] if layers else list(LAYERS)


def load(
    geodata: str | Path | None = None, layers: list[str] | None = None, *, strict: bool = False
) -> Dataset:
    """Validate and join layers of ``geodata/``.

    Parameters
    ----------
    geodata
        The data directory (default :data:`ccamap.settings.GEODATA_DIR`).
    layers
        Layer names; all by default.
    strict
        Treat warnings as errors.

    Raises
    ------
    ValidationError
        If validation finds an error (or, with ``strict``, a warning). Its ``report`` lists all.
    """
    report, inputs, sources = validate(geodata, _names(layers))
    joined = {name: join_layer(inp, report) for name, inp in inputs.items()}
    if report.failed(strict=strict):
        raise ValidationError(report)
    return Dataset(joined, sources, report)


def load_layer(name: str, geodata: str | Path | None = None) -> gpd.GeoDataFrame:
    """Return one validated, joined layer as a GeoDataFrame (e.g. ``load_layer("pipelines")``)."""
    return load(geodata, [name]).layers[get_layer(name).name]


def load_outlines(geodata: str | Path | None = None) -> dict[str, Any] | None:
    """Return the basemap's country outlines from ``geodata/boundaries.geojson``, if present."""
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    path = root / "boundaries.geojson"
    if not path.exists():
        return None
    # the path as validation names it: the outlines it parsed are found in its cache
    return _outlines_cached(load_boundaries(path))


@functools.lru_cache(maxsize=4)
def _outlines_cached(bounds: Boundaries) -> dict[str, Any]:
    countries = bounds.countries  # parsed once, shared with validation
    boundaries = gpd.GeoDataFrame({"iso3": list(countries)}, geometry=list(countries.values()),
                                  crs="EPSG:4326")
    return outlines_for_display(boundaries)


def render_maps(
    data: Dataset,
    *,
    all_layers: bool = True,
    offline: bool = True,
    cdn: bool = False,
    outlines: dict[str, Any] | None = None,
    basemap: dict[str, Any] | None = None,
    pages_for: list[str] | None = None,
    progress: Progress | None = None,
    prepared: dict[str, PreparedLayer] | None = None,
    prepared_basemap: PreparedBasemap | None = None,
) -> dict[str, str]:
    """Render the overview, per-layer maps and the table to HTML, by file name.

    Element ids are numbered (:func:`ccamap.render.deterministic_ids`), so the same data always
    gives the same bytes. Every asset is inlined unless ``cdn`` (``offline`` is kept for
    callers of earlier versions: offline is the default). ``pages_for`` limits the per-layer
    pages to those layers (the overview and the table always show every layer of ``data``);
    ``progress`` is told of each page as it is rendered. ``prepared`` is a cache of each
    layer's map data (:func:`ccamap.render.prepare_layer`): what it holds is used, what is
    computed is added, so a caller rendering pages in several calls prepares each layer once.
    Only the layers drawn on the pages asked for are prepared. ``prepared_basemap``
    (:func:`ccamap.render.prepare_basemap` of ``outlines`` and ``basemap``) is used instead of
    serialising them again; without it they are serialised once for all the pages of the call.
    """
    pages: dict[str, str] = {}
    names = [n for n in data.layers if pages_for is None or n in pages_for]
    drawn = list(data.layers) if all_layers else names
    prepared = prepared if prepared is not None else {}
    missing = [name for name in drawn if name not in prepared]
    countries = outlines_frame(outlines) if missing else None
    for name in missing:
        if name not in prepared:
            prepared[name] = prepare_layer(data.layers[name], LAYERS[name], data.sources,
                                           countries=countries)
    if outlines is not None and prepared_basemap is None:
        prepared_basemap = prepare_basemap(outlines, basemap)
    options: dict[str, Any] = {"cdn": cdn, "outlines": outlines, "basemap": basemap,
                               "prepared": prepared, "prepared_basemap": prepared_basemap,
                               "site": True}
    total = len(names) + (2 if all_layers else 0)
    with deterministic_ids(), shared_records():  # the frames stay as they are meanwhile
        if all_layers:
            m = render_map(data.layers, data.sources,
                           title="ccamap — China–Central Asia cooperation infrastructure",
                           **options)
            pages["index.html"] = _html(m)
            del m
            _tell(progress, "render", len(pages), total)
            pages["table.html"] = render_table(data.layers)
            _tell(progress, "render", len(pages), total)
        for name in names:
            m = render_map({name: data.layers[name]}, data.sources,
                           title=f"ccamap — {LAYERS[name].title}", **options)
            pages[f"{name}.html"] = _html(m)
            del m
            _tell(progress, "render", len(pages), total)
    return pages


def _html(m: folium.Map) -> str:
    return m.get_root().render()


class _Batch:
    """Files rendered together when the first is written, then handed out one by one.

    The writers of :func:`ccamap.io.publish_tree` run in order; each batch renders only when its
    turn comes and lets go of each text once written, so a build holds one batch's pages at a
    time instead of the whole site.
    """

    def __init__(self, render: Callable[[], dict[Path, str]], done: Callable[[], None]) -> None:
        self._render = render
        self._done = done
        self._files: dict[Path, str] | None = None

    def writer(self, rel: Path) -> Callable[[Path], None]:
        """Return the writer of one file of the batch."""
        def write(tmp: Path) -> None:
            if self._files is None:
                self._files = self._render()
            text_writer(self._files.pop(rel))(tmp)
            self._done()

        return write


def build(
    geodata: str | Path | None = None,
    out: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    strict: bool = False,
    offline: bool = True,
    cdn: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Validate, join, render every map and export GeoJSON; write only if all of it succeeds.

    Layers are validated together (some checks span layers), then rendered and exported one at
    a time: the overview and the table first, then each layer's page and GeoJSON export, each
    file written into the staged site as soon as it is rendered (:func:`ccamap.io.publish_tree`
    switches the whole site in at the end). Each layer's map data is prepared once, for the
    overview and its own page, and released after its page, so after the overview the memory
    held follows the largest layer rather than the sum of pages and exports. A GeoJSON export
    is written as it is serialised, a batch of features at a time
    (:func:`ccamap.export.geojson_pieces`), never whole in memory.

    Parameters
    ----------
    geodata
        The data directory (read only).
    out
        The maps directory (default :data:`ccamap.settings.MAPS_DIR`); exports go to
        ``out/export``.
    layers
        Only these layers' maps and exports; every layer is still validated, and the overview
        and the table are rebuilt with all of them, so no page is left stale.
    strict
        Treat warnings as errors.
    offline
        Kept for callers of earlier versions: every asset is inlined unless ``cdn``, so the
        maps render with no network.
    cdn
        Link Leaflet from its CDN instead of inlining it (smaller pages that need the network).
    progress
        Called with ``(stage, done, total)`` as the build goes (the CLI draws a progress bar):
        ``validate`` once, ``render`` per page, ``export`` per GeoJSON file and ``write`` per
        file written.
    """
    out = Path(out) if out is not None else settings.MAPS_DIR
    check_output_dir(out, Path(geodata) if geodata is not None else settings.GEODATA_DIR,
                     replaced_whole=True)
    # The build allocates millions of small lists and strings (coordinates, rows) and creates
    # no cycles worth collecting while it runs; the collector's scans of the loaded data cost a
    # third of the build at 10,000 lines (38 s -> 28 s with it paused, same peak memory).
    # Each layer's attributes are read once for all the pages (nothing changes the frames).
    with gc_paused(), shared_records():
        return _build(geodata, out, layers, strict=strict, cdn=cdn, progress=progress)


def _basemap(geodata: str | Path | None
             ) -> tuple[dict[str, Any] | None, dict[str, Any], PreparedBasemap | None]:
    """Return the outlines, the rest of the basemap, and both prepared once for every page."""
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    outlines = load_outlines(geodata)
    basemap: dict[str, Any] = {"water": load_water(root)}
    return outlines, basemap, prepare_basemap(outlines, basemap) if outlines is not None else None


def _build(geodata: str | Path | None, out: Path, layers: list[str] | None, *, strict: bool,
           cdn: bool, progress: Progress | None) -> BuildResult:
    only = _names(layers) if layers else None
    _tell(progress, "validate", 0, 1)
    # The basemap (outlines simplified, country labels placed, everything serialised) is made
    # while the layers are validated: its geometry work runs in GEOS, which lets go of the GIL,
    # on the second core. A failed validation waits for it, then raises; the outlines' own
    # errors are the validation's to report.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccamap-basemap") as pool:
        basemap_job = pool.submit(_basemap, geodata)
        data = load(geodata, None, strict=strict)
        _tell(progress, "validate", 1, 1)
        outlines, basemap, ready_basemap = basemap_job.result()
    names = [n for n in data.layers if only is None or n in only]
    prepared: dict[str, PreparedLayer] = {}
    pages, exports = len(names) + 2, len(names)
    counts = {"render": 0, "export": 0, "write": 0}
    files = 2 + 2 * len(names)

    def count(stage: str, total: int) -> None:
        counts[stage] += 1
        _tell(progress, stage, counts[stage], total)

    for stage, total in (("render", pages), ("export", exports), ("write", files)):
        _tell(progress, stage, 0, total)  # every bar shows from the start, in stage order

    def overview() -> dict[Path, str]:
        html = render_maps(data, cdn=cdn, pages_for=[], prepared=prepared, outlines=outlines,
                           basemap=basemap, prepared_basemap=ready_basemap,
                           progress=lambda *_: count("render", pages))
        for name in set(prepared) - set(names):  # no page of their own to draw
            del prepared[name]
        return {Path(n): text for n, text in html.items()}

    def page(name: str) -> dict[Path, str]:
        html = render_maps(data, all_layers=False, pages_for=[name], prepared=prepared,
                           cdn=cdn, outlines=outlines, basemap=basemap,
                           prepared_basemap=ready_basemap,
                           progress=lambda *_: count("render", pages))
        prepared.pop(name, None)
        return {Path(n): text for n, text in html.items()}

    def export_of(name: str, tmp: Path) -> None:
        # streamed: a large layer's export text is never whole in memory
        pieces_writer(partial(geojson_pieces, data.layers[name], data.sources))(tmp)
        count("export", exports)
        written()

    def written() -> None:
        count("write", files)

    writers: dict[Path, Callable[[Path], None]] = {}
    first = _Batch(overview, written)
    writers.update({Path(n): first.writer(Path(n)) for n in ("index.html", "table.html")})
    for name in names:
        writers[Path(f"{name}.html")] = _Batch(partial(page, name), written).writer(
            Path(f"{name}.html"))
        writers[Path("export") / f"{name}.geojson"] = partial(export_of, name)
    result = publish_tree(out, writers)
    return BuildResult(written=result, report=data.report)


def export(
    geodata: str | Path | None = None,
    out: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    fmt: str = "geojson",
    progress: Progress | None = None,
) -> list[Path]:
    """Export layers for GIS tools in format ``fmt``; return the files written.

    ``progress`` is called with ``(stage, done, total)`` as in :func:`build`. Like the build,
    it runs with the cyclic garbage collector paused (10,000 lines: 14 s -> 9 s).
    """
    check_format(fmt)
    out = Path(out) if out is not None else settings.EXPORT_DIR
    check_output_dir(out, Path(geodata) if geodata is not None else settings.GEODATA_DIR)
    with gc_paused():
        _tell(progress, "validate", 0, 1)
        data = load(geodata, layers)
        _tell(progress, "validate", 1, 1)
        _tell(progress, "export", 0, 1)
        return write_export(data.layers, data.sources, fmt, out,
                            progress=lambda done, total: _tell(progress, "export", done, total))


def export_postgis(
    url: str,
    geodata: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    schema: str = "ccamap",
) -> list[str]:
    """Export layers and the sources table into the PostGIS database at ``url``."""
    with gc_paused():  # as for build and export: millions of small objects, no cycles
        data = load(geodata, layers)
        return to_postgis(data.layers, data.sources, url, schema)
