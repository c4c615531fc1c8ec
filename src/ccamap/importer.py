"""Importing better geometry for one feature from any file GDAL reads."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import mapping, shape

from ccamap import settings
from ccamap.errors import CcamapError, LoadError
from ccamap.export import round_geometry
from ccamap.io import atomic_write, read_attribute_table, read_feature_collection, write_text_atomic
from ccamap.join import geodesic_length_km
from ccamap.layers import PRECISIONS, Layer, get_layer
from ccamap.report import Report
from ccamap.validate import check_features, load_sources, validate

__all__ = ["BACKUP_DIR", "ImportPreview", "ImportResult", "import_geometry",
           "read_new_geometry"]

#: Where backups go, inside the geodata directory: ``.backup/<UTC timestamp>/<layer>.*``.
BACKUP_DIR = ".backup"


@dataclass(frozen=True)
class ImportPreview:
    """What an import would change."""

    layer: str
    feature_id: str
    old_length_km: float | None
    new_length_km: float | None
    old_vertices: int
    new_vertices: int
    max_distance_km: float

    def format(self) -> str:
        """Return the preview as text for the terminal."""
        def km(value: float | None) -> str:
            return "-" if value is None else f"{value:,.1f} km"

        return (f"{self.layer}/{self.feature_id}: length {km(self.old_length_km)} -> "
                f"{km(self.new_length_km)}, vertices {self.old_vertices} -> "
                f"{self.new_vertices}, max distance between old and new "
                f"{self.max_distance_km:,.1f} km")


@dataclass(frozen=True)
class ImportResult:
    """The preview, whether the geometry was replaced, and the backup written."""

    preview: ImportPreview
    applied: bool
    backup: Path | None


def read_new_geometry(
    file: Path, *, feature_index: int | None = None, where: str | None = None
) -> shapely.Geometry:
    """Read one feature's geometry from any file GDAL reads, in WGS84 lon/lat, 2D.

    Every layer of the file is read (a KML file holds one per folder). ``feature_index`` picks
    the Nth feature (0-based, over all layers in order); ``where`` is an OGR SQL attribute
    filter (``name = 'Line A'``) that must match exactly one feature. With neither, the file
    must hold exactly one feature.

    Raises
    ------
    CcamapError
        If the file cannot be read, has no CRS, or the selection does not give one feature.
    """
    import pyogrio

    file = Path(file)
    if not file.is_file():
        msg = f"{file}: expected a file GDAL reads, found no such file"
        raise CcamapError(msg)
    try:
        names = [str(n) for n in pyogrio.list_layers(file)[:, 0]]
        frames = []
        for name in names:
            gdf = pyogrio.read_dataframe(file, layer=name, where=where)
            if len(gdf):
                if gdf.crs is None:
                    msg = (f"{file} layer {name!r}: expected a declared CRS, found none "
                           "(save the file with its CRS, e.g. as GeoPackage)")
                    raise CcamapError(msg)
                frames.append(gdf[["geometry"]].to_crs("EPSG:4326"))
    except CcamapError:
        raise
    except Exception as exc:  # pyogrio raises several error types, all from GDAL
        detail = f" with --where {where!r}" if where else ""
        msg = f"{file}: expected a file GDAL reads{detail}, found: {exc}"
        raise CcamapError(msg) from exc
    features = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
                if frames else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    what = f"matching {where!r}" if where else "in the file"
    if feature_index is not None:
        if not 0 <= feature_index < len(features):
            msg = (f"{file}: expected a feature index 0..{len(features) - 1}, found "
                   f"{feature_index}")
            raise CcamapError(msg)
        geom = features.geometry.iloc[feature_index]
    elif len(features) != 1:
        hint = "; select one with --feature-index or --where" if len(features) > 1 else ""
        msg = f"{file}: expected exactly one feature {what}, found {len(features)}{hint}"
        raise CcamapError(msg)
    else:
        geom = features.geometry.iloc[0]
    if geom is None or geom.is_empty:
        msg = f"{file}: expected a geometry in the selected feature, found none"
        raise CcamapError(msg)
    geom = shapely.force_2d(geom)
    if geom.geom_type.startswith("Multi") and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return geom


def _max_distance_km(old: shapely.Geometry, new: shapely.Geometry) -> float:
    """Return the Hausdorff distance in km, in an azimuthal equidistant projection at the centre."""
    centre = shapely.union(old.envelope, new.envelope).centroid
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84")
    old_p, new_p = gpd.GeoSeries([old, new], crs="EPSG:4326").to_crs(local)
    return float(shapely.hausdorff_distance(old_p, new_p, densify=0.1)) / 1000.0


def _length(geom: shapely.Geometry, layer: Layer) -> float | None:
    if not layer.is_line:
        return None
    return float(geodesic_length_km(gpd.GeoSeries([geom], crs="EPSG:4326")).iloc[0])


def _validate_new(
    geom: shapely.Geometry, layer: Layer, feature_id: str, source_id: str, file: Path
) -> shapely.Geometry:
    """Run the validator's geometry checks on the new geometry; return it as checked."""
    n = len(shapely.get_coordinates(geom))
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"id": feature_id, "waypoints": [""] * n,
                       "coordinate_sources": [source_id] * n},
        "geometry": mapping(geom)}]}
    report = Report()
    checked = check_features(json.loads(json.dumps(doc)), layer, str(file), report)
    if report.errors or not len(checked):
        problems = "\n".join(p.format() for p in report.errors)
        msg = f"{file}: expected geometry that passes validation, found:\n{problems}"
        raise CcamapError(msg)
    return round_geometry(checked.geometry.iloc[0], feature_id,
                          settings.COORDINATE_PRECISION)


def _set_field_source(text: str, field: str, source_id: str) -> str:
    parts: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        names, sep, value = part.partition("=")
        kept = [n.strip() for n in names.split(",") if n.strip() != field]
        if kept:
            parts.append(f"{','.join(kept)}{sep}{value}")
    parts.append(f"{field}={source_id}")
    return "; ".join(parts)


def _csv_text(table: pd.DataFrame, newline: str) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(list(table.columns))
    writer.writerows(table.astype(str).values.tolist())
    return buf.getvalue()


def import_geometry(
    layer: str,
    feature_id: str,
    file: Path,
    *,
    source_id: str,
    geodata: Path,
    feature_index: int | None = None,
    where: str | None = None,
    precision: str | None = None,
    confirm: Callable[[ImportPreview], bool] | None = None,
) -> ImportResult:
    """Replace one feature's geometry in ``geodata/`` with geometry read from ``file``.

    The file is read with GDAL (any format it reads), reprojected to WGS84 and checked with the
    validator's geometry checks (type for the layer, region, swapped axes, degenerate lines).
    The preview gives old and new geodesic length, vertex counts and the Hausdorff distance
    between the two geometries. If ``confirm`` returns ``True`` (or is ``None``), the layer's
    ``.geojson`` and ``.csv`` are copied to ``geodata/.backup/<UTC timestamp>/``, then
    rewritten atomically: the new geometry with ``coordinate_sources`` set to ``source_id`` for
    every vertex (``waypoints`` are left unnamed, empty strings, except a point keeps its
    name), ``geometry_precision`` set, and ``source_id`` added to ``sources`` and to
    ``field_sources`` as ``geometry_precision=<source_id>``. The layer is validated again
    afterwards; on any error the backup is restored.

    Parameters
    ----------
    layer, feature_id
        The feature to change.
    file
        Any file GDAL reads, in any CRS it declares.
    source_id
        The id in ``sources.csv`` of the new geometry's source.
    geodata
        The data directory.
    feature_index, where
        Which feature of the file to take (see :func:`read_new_geometry`).
    precision
        ``exact`` (default) or ``approximate``; ``schematic`` needs named waypoints, which an
        imported geometry does not have.
    confirm
        Called with the preview; the change is applied only if it returns ``True``.

    Raises
    ------
    CcamapError
        For an unknown layer, feature or source, a file without exactly one selected feature,
        or geometry failing validation or outside the region.
    """
    lay = get_layer(layer)
    geodata = Path(geodata)
    precision = precision or "exact"
    if precision not in PRECISIONS or precision == "schematic":
        msg = (f"expected precision exact or approximate for imported geometry, found "
               f"{precision!r}" + (" (schematic lines need a name per vertex)"
                                   if precision == "schematic" else ""))
        raise CcamapError(msg)
    if feature_index is not None and where is not None:
        msg = "expected --feature-index or --where, found both"
        raise CcamapError(msg)
    geo_path, csv_path = geodata / f"{lay.name}.geojson", geodata / f"{lay.name}.csv"
    sources = load_sources(geodata / "sources.csv", Report())
    if source_id not in sources.index:
        msg = f"{geodata / 'sources.csv'}: expected a source id, found no {source_id!r}"
        raise CcamapError(msg)
    try:
        doc = read_feature_collection(geo_path)
        table = read_attribute_table(csv_path)
    except LoadError as exc:
        raise CcamapError(str(exc)) from exc
    matches = [f for f in doc["features"] if isinstance(f, dict)
               and (f.get("properties") or {}).get("id", f.get("id")) == feature_id]
    rows = list(table.index[table["id"] == feature_id]) if "id" in table else []
    if len(matches) != 1 or len(rows) != 1:
        msg = (f"{geo_path}: expected one feature and one row with id {feature_id!r}, found "
               f"{len(matches)} feature(s) and {len(rows)} row(s)")
        raise CcamapError(msg)
    feat, row = matches[0], rows[0]

    new = _validate_new(read_new_geometry(file, feature_index=feature_index, where=where),
                        lay, feature_id, source_id, Path(file))
    old = shape(feat["geometry"]) if feat.get("geometry") else None
    n_old = len(shapely.get_coordinates(old)) if old is not None else 0
    preview = ImportPreview(
        lay.name, feature_id,
        _length(old, lay) if old is not None else None, _length(new, lay),
        n_old, len(shapely.get_coordinates(new)),
        _max_distance_km(old, new) if old is not None else 0.0,
    )
    if confirm is not None and not confirm(preview):
        return ImportResult(preview, applied=False, backup=None)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup = geodata / BACKUP_DIR / stamp
    backup.mkdir(parents=True, exist_ok=False)
    originals = {p: p.read_bytes() for p in (geo_path, csv_path)}
    for path in originals:
        shutil.copy2(path, backup / path.name)

    n_new = preview.new_vertices
    props = feat.setdefault("properties", {})
    old_names = props.get("waypoints") or []
    props["waypoints"] = (list(old_names) if not lay.is_line and len(old_names) == n_new
                          else [""] * n_new)
    props["coordinate_sources"] = [source_id] * n_new
    feat["geometry"] = json.loads(json.dumps(mapping(new)))
    table.loc[row, "geometry_precision"] = precision
    cited = [s.strip() for s in str(table.loc[row, "sources"]).split(";") if s.strip()]
    if source_id not in cited:
        cited.append(source_id)
    table.loc[row, "sources"] = ";".join(cited)
    table.loc[row, "field_sources"] = _set_field_source(
        str(table.loc[row, "field_sources"]), "geometry_precision", source_id)
    newline = "\r\n" if b"\r\n" in originals[csv_path] else "\n"
    try:
        write_text_atomic(geo_path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        write_text_atomic(csv_path, _csv_text(table, newline))
        report, _, _ = validate(geodata, [lay.name])
        if report.errors:
            problems = "\n".join(p.format() for p in report.errors)
            msg = f"expected {lay.name} to validate after the import, found:\n{problems}"
            raise CcamapError(msg)
    except BaseException:
        for path, data in originals.items():
            with atomic_write(path, "wb", encoding=None) as fh:
                fh.write(data)
        raise
    return ImportResult(preview, applied=True, backup=backup)
