"""The whole flow: load → validate → join → render → export, writing outputs atomically."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from ccamap import settings
from ccamap.basemap import load_water
from ccamap.errors import ValidationError
from ccamap.export import check_format, render_export, to_postgis, write_export
from ccamap.io import publish_tree, text_writer
from ccamap.join import join_layer
from ccamap.layers import LAYERS, get_layer
from ccamap.render import (
    deterministic_ids,
    layer_geojson,
    outlines_for_display,
    outlines_frame,
    render_map,
    render_table,
)
from ccamap.report import Report
from ccamap.safety import check_output_dir
from ccamap.spatial import load_boundaries
from ccamap.validate import validate

__all__ = ["BuildResult", "Dataset", "build", "export", "export_postgis", "load", "load_layer",
           "load_outlines", "render_maps"]


#: Told of progress: ``(stage, done, total)``; stages are ``validate``, ``render``, ``export``
#: and ``write``.
Progress = Callable[[str, int, int], None]


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
    return _outlines_cached(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _outlines_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    countries = load_boundaries(Path(path)).countries  # parsed once, shared with validation
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
) -> dict[str, str]:
    """Render the overview, per-layer maps and the table to HTML, by file name.

    Element ids are numbered (:func:`ccamap.render.deterministic_ids`), so the same data always
    gives the same bytes. Every asset is inlined unless ``cdn`` (``offline`` is kept for
    callers of earlier versions: offline is the default). ``pages_for`` limits the per-layer
    pages to those layers (the overview and the table always show every layer of ``data``);
    ``progress`` is told of each page as it is rendered.
    """
    pages: dict[str, str] = {}
    countries = outlines_frame(outlines)
    prepared = {name: layer_geojson(gdf, LAYERS[name], data.sources, countries=countries)
                for name, gdf in data.layers.items()}
    options: dict[str, Any] = {"cdn": cdn, "outlines": outlines, "basemap": basemap,
                               "prepared": prepared, "site": True}
    names = [n for n in data.layers if pages_for is None or n in pages_for]
    total = len(names) + (2 if all_layers else 0)
    with deterministic_ids():
        if all_layers:
            m = render_map(data.layers, data.sources,
                           title="ccamap — China–Central Asia cooperation infrastructure",
                           **options)
            pages["index.html"] = _html(m)
            _tell(progress, "render", len(pages), total)
            pages["table.html"] = render_table(data.layers)
            _tell(progress, "render", len(pages), total)
        for name in names:
            m = render_map({name: data.layers[name]}, data.sources,
                           title=f"ccamap — {LAYERS[name].title}", **options)
            pages[f"{name}.html"] = _html(m)
            _tell(progress, "render", len(pages), total)
    return pages



def _html(m: folium.Map) -> str:
    return m.get_root().render()


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
        Called with ``(stage, done, total)`` as the build goes (the CLI draws a progress bar).
    """
    out = Path(out) if out is not None else settings.MAPS_DIR
    check_output_dir(out, Path(geodata) if geodata is not None else settings.GEODATA_DIR,
                     replaced_whole=True)
    only = _names(layers) if layers else None
    _tell(progress, "validate", 0, 1)
    data = load(geodata, None, strict=strict)
    _tell(progress, "validate", 1, 1)
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    pages = render_maps(data, cdn=cdn, outlines=load_outlines(geodata),
                        basemap={"water": load_water(root)}, pages_for=only, progress=progress)
    files = {Path(name): text for name, text in pages.items()}
    exported = {n: g for n, g in data.layers.items() if only is None or n in only}
    _tell(progress, "export", 0, 1)
    exports = render_export(exported, data.sources, "geojson", out / "export")
    _tell(progress, "export", 1, 1)
    files.update({path.relative_to(out): text for path, text in exports.items()})
    _tell(progress, "write", 0, 1)
    written = publish_tree(out, {path: text_writer(text) for path, text in files.items()})
    _tell(progress, "write", 1, 1)
    return BuildResult(written=written, report=data.report)


def export(
    geodata: str | Path | None = None,
    out: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    fmt: str = "geojson",
    progress: Progress | None = None,
) -> list[Path]:
    """Export layers for GIS tools in format ``fmt``; return the files written.

    ``progress`` is called with ``(stage, done, total)`` as in :func:`build`.
    """
    check_format(fmt)
    out = Path(out) if out is not None else settings.EXPORT_DIR
    check_output_dir(out, Path(geodata) if geodata is not None else settings.GEODATA_DIR)
    _tell(progress, "validate", 0, 1)
    data = load(geodata, layers)
    _tell(progress, "validate", 1, 1)
    _tell(progress, "export", 0, 1)
    written = write_export(data.layers, data.sources, fmt, out)
    _tell(progress, "export", 1, 1)
    return written


def export_postgis(
    url: str,
    geodata: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    schema: str = "ccamap",
) -> list[str]:
    """Export layers and the sources table into the PostGIS database at ``url``."""
    data = load(geodata, layers)
    return to_postgis(data.layers, data.sources, url, schema)
