"""Writing an export: every file of a format rendered or built, then moved into place together."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ccamap.errors import ExportError, UsageError
from ccamap.export.frame import TEXT_FORMATS, check_format, export_paths
from ccamap.export.gdal import binary_writers
from ccamap.export.geojson import geojson_pieces, geojson_text
from ccamap.export.kml import kml_text
from ccamap.export.tables import claims_csv_text, csv_texts, sources_csv_text
from ccamap.io import pieces_writer, text_writer, write_files_atomic

__all__ = ["FileProgress", "render_export", "write_export"]

#: Told ``(files written, files in the export)`` after each file of an export is complete.
FileProgress = Callable[[int, int], None]


def render_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, str]:
    """Return the files of a text format (geojson, kml, csv) by path, without writing anything.

    Raises
    ------
    UsageError
        For a binary format (gpkg, parquet, fgb): use :func:`write_export`.
    """
    check_format(fmt)
    if fmt not in TEXT_FORMATS:
        msg = (f"expected a text format ({', '.join(sorted(TEXT_FORMATS))}) to render, found "
               f"{fmt!r}; write it with write_export")
        raise UsageError(msg)
    paths = export_paths(out, list(layers), fmt)
    if fmt == "geojson":
        return {path: geojson_text(layers[name], sources) for name, path in paths.items()}
    if fmt == "kml":
        return {out / "ccamap.kml": kml_text(layers, sources)}
    files: dict[Path, str] = {}
    for name, path in paths.items():
        files[path], files[path.with_suffix(".csvt")] = csv_texts(name, layers[name])
    files[out / "sources.csv"] = sources_csv_text(sources)
    files[out / "claims.csv"] = claims_csv_text(layers, sources)
    return files


def write_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path, *,
    progress: FileProgress | None = None,
) -> list[Path]:
    """Write ``layers`` in format ``fmt`` under ``out``; return the files written.

    Every file is first written to a temporary path beside its target; only when all of them
    are complete are they moved into place. On any failure the temporary files are removed and
    the previous files are left as they were. Each file is rendered when its turn comes, so
    only one layer's output is held in memory at a time; ``progress`` is told
    ``(done, total)`` after each file.

    Raises
    ------
    UsageError
        For an unknown format.
    ExportError
        If a geometry collapses when rounded, a value cannot be held by the format, GDAL or
        Arrow fails to write, or the system refuses a write (a read-only directory, a full
        disk: then the previous files are unchanged).
    """
    check_format(fmt)
    out = Path(out)
    writers = _text_writers(layers, sources, fmt, out) if fmt in TEXT_FORMATS else \
        binary_writers(layers, sources, fmt, out)
    if progress is not None:
        writers = _counted(writers, progress)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return write_files_atomic(writers)
    except OSError as exc:
        raise _write_failed(out, fmt, exc) from exc


def _text_writers(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, Callable[[Path], None]]:
    """Return a writer per file of a text format, each rendering its layer when called."""
    if fmt != "geojson":  # kml is one file; csv is small beside its GeoJSON twin
        return {path: text_writer(text)
                for path, text in render_export(layers, sources, fmt, out).items()}
    return {path: partial(_write_geojson, layers[name], sources)
            for name, path in export_paths(out, list(layers), fmt).items()}


def _write_geojson(gdf: gpd.GeoDataFrame, sources: pd.DataFrame, tmp: Path) -> None:
    pieces_writer(partial(geojson_pieces, gdf, sources))(tmp)


def _counted(writers: dict[Path, Callable[[Path], None]],
             progress: FileProgress) -> dict[Path, Callable[[Path], None]]:
    """Return the writers, each telling ``progress`` once its file is complete."""
    total = len(writers)

    def counted(write: Callable[[Path], None], done: int, tmp: Path) -> None:
        write(tmp)
        progress(done, total)

    return {path: partial(counted, write, i) for i, (path, write) in
            enumerate(writers.items(), start=1)}


def _write_failed(out: Path, fmt: str, exc: OSError) -> ExportError:
    where = exc.filename if exc.filename is not None else out
    reason = exc.strerror or os.strerror(exc.errno or 0) or str(exc)
    msg = (f"{where}: expected to write the {fmt} export into {out}, found: {reason}; the "
           "previous files there are unchanged")
    return ExportError(msg)
