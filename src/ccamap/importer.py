"""Importing better geometry for one feature from any file GDAL reads."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sqlite3
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
from ccamap.fix import replace_files
from ccamap.io import atomic_write, read_attribute_table, read_feature_collection
from ccamap.join import geodesic_length_km
from ccamap.layers import PRECISIONS, Layer, get_layer
from ccamap.report import Report
from ccamap.safety import check_local_source
from ccamap.validate import check_features, load_sources, validate

__all__ = ["BACKUP_DIR", "ImportPreview", "ImportResult", "import_geometry",
           "read_new_geometry"]

#: Where backups go, inside the geodata directory: ``.backup/<UTC timestamp>/<layer>.*``.
BACKUP_DIR = ".backup"

#: Most layers a file given to ``import`` may have. GDAL opens the file again for every layer
#: it reads, and opening costs time in proportion to the number of layers, so this ceiling
#: keeps an import of a file with thousands of layers (a KML of many folders, a GeoPackage of
#: many tables) from taking quadratic time. Read when a function runs.

#: Attribute columns an import writes to.
_WRITTEN_COLUMNS = ("sources", "field_sources", "geometry_precision")


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
    #: The ``route_error_km`` the import writes (lines only), and its basis: ``"given"``
    #: (``--route-error-km``) or ``"carried"`` (old estimate + ``max_distance_km``).
    route_error_km: float | None = None
    route_error_basis: str = ""

    def format(self) -> str:
        """Return the preview as text for the terminal."""
        def km(value: float | None) -> str:
            return "-" if value is None else f"{value:,.1f} km"

        text = (f"{self.layer}/{self.feature_id}: length {km(self.old_length_km)} -> "
                f"{km(self.new_length_km)}, vertices {self.old_vertices} -> "
                f"{self.new_vertices}, max distance between old and new "
                f"{self.max_distance_km:,.1f} km")
        if self.route_error_km is not None:
            basis = {"given": "as given",
                     "carried": "old estimate + max distance between old and new"}
            text += (f", route_error_km {_number(self.route_error_km)} "
                     f"({basis.get(self.route_error_basis, self.route_error_basis)})")
        return text


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

    The file must be local: URLs, GDAL virtual file systems and VRT files, which can make GDAL
    reach the network, are refused (:func:`ccamap.safety.check_local_source`). Its layers are
    listed once; a file of more than ``settings.MAX_IMPORT_LAYERS`` layers is refused, layers
    without geometry are skipped, and reading stops as soon as the selection is decided.

    Raises
    ------
    UnsafeSourceError
        If the file could make GDAL reach the network.
    CcamapError
        If the file cannot be read, has too many layers, has no CRS, or the selection does not
        give one feature.
    """
    import pyogrio

    source = check_local_source(file)
    file = Path(file)
    _check_gpkg_layers(file, source)
    enough = feature_index if feature_index is not None else 1  # more found: decided
    try:
        listed = pyogrio.list_layers(source)
        _check_layer_count(file, len(listed))
        layers = [str(name) for name, gtype in listed if gtype is not None]
        frames: list[gpd.GeoDataFrame] = []
        found, complete = 0, True
        for name in layers:
            if where is None and found > enough:
                complete = False
                break
            gdf = pyogrio.read_dataframe(source, layer=name, where=where,
                                         columns=None if where else [])
            if len(gdf):
                if gdf.crs is None:
                    msg = (f"{file} layer {name!r}: expected a declared CRS, found none "
                           "(save the file with its CRS, e.g. as GeoPackage)")
                    raise CcamapError(msg)
                frames.append(gdf[["geometry"]].to_crs("EPSG:4326"))
                found += len(gdf)
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
        count = f"{len(features)}" + ("" if complete else " or more")
        msg = f"{file}: expected exactly one feature {what}, found {count}{hint}"
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


def _check_layer_count(file: Path, count: int) -> None:
    limit = settings.MAX_IMPORT_LAYERS
    if count > limit:
        msg = (f"{file}: expected at most {limit:,} layers (limit "
               f"ccamap.settings.MAX_IMPORT_LAYERS), found {count:,}; save the layer you need "
               "on its own, or raise the limit if the file is genuine")
        raise CcamapError(msg)


def _check_gpkg_layers(file: Path, source: Path) -> None:
    """Refuse a GeoPackage of more than ``settings.MAX_IMPORT_LAYERS`` tables before GDAL opens it.

    Opening a GeoPackage with GDAL takes time in proportion to its tables, so the ceiling is
    checked first by counting the rows of its ``gpkg_contents`` table directly (read-only, and
    only if it is a table, not a view). Other files are checked after GDAL lists their layers.
    """
    with source.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            return
    count = None
    with contextlib.suppress(sqlite3.Error), \
            contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=ro&immutable=1",
                                               uri=True)) as con:
        con.set_progress_handler(lambda: 1, 10_000_000)  # abort a query that runs away
        kind = con.execute("SELECT type FROM sqlite_master WHERE name = 'gpkg_contents'"
                           ).fetchone()
        if kind == ("table",):
            count = con.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0]
    if count is not None:
        _check_layer_count(file, int(count))


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


def _field_source(text: str, field: str) -> list[str]:
    """Return the source ids that ``field_sources`` text gives for ``field``."""
    for part in (p.strip() for p in text.split(";")):
        names, sep, value = part.partition("=")
        if sep and field in (n.strip() for n in names.split(",")):
            return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _number(value: float) -> str:
    """Write a km value as the tables do: no trailing zeros (``10``, ``2.5``, ``0.125``)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _check_route_error(value: float | None, lay: Layer) -> float | None:
    """Check a ``--route-error-km`` value: lines only, a finite number of km, not negative."""
    if value is None:
        return None
    if not lay.is_line:
        msg = (f"expected --route-error-km only for a line layer (railways, pipelines, "
               f"highways), found it for the point layer {lay.name!r}")
        raise CcamapError(msg)
    if not math.isfinite(value) or value < 0:
        msg = f"expected --route-error-km a finite number of km, 0 or more, found {value!r}"
        raise CcamapError(msg)
    return float(value)


def _old_route_error(text: str) -> float | None:
    """Return the table's ``route_error_km`` as a number, or None if empty or not a number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


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
    route_error_km: float | None = None,
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
    ``field_sources`` as ``geometry_precision=<source_id>``. A line's ``route_error_km`` (the
    estimated largest distance between the drawing and the real route) is replaced too, never
    kept as it was: by ``route_error_km`` if given (cited as ``route_error_km=<source_id>``),
    otherwise by the old estimate plus the largest distance between the old and the new
    geometry, rounded up to 0.1 km (cited as the old estimate's sources and ``source_id``).
    That sum is an honest upper bound: every point of the new line lies within the old
    estimate of the real route plus its distance to the old line. The layer is validated again
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
    route_error_km
        Lines only: the new geometry's estimated largest distance in km from the real route
        (finite, 0 or more). Required for a line whose table has no estimate to carry over.
    confirm
        Called with the preview; the change is applied only if it returns ``True``.

    Raises
    ------
    CcamapError
        For an unknown layer, feature or source, a file without exactly one selected feature,
        geometry failing validation or outside the region, a ``route_error_km`` that is given
        for a point layer, negative or not finite, or missing for a line with no estimate.
    """
    lay = get_layer(layer)
    given_error = _check_route_error(route_error_km, lay)
    geodata = Path(geodata)
    precision = precision or "exact"
    if precision not in PRECISIONS or precision in ("schematic", "locality"):
        msg = (f"expected precision exact or approximate for imported geometry, found "
               f"{precision!r}" + {"schematic": " (schematic lines need a name per vertex)",
                                   "locality": " (a locality point stands on a named place, "
                                               "not on imported geometry)"}.get(precision, ""))
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
    missing = [c for c in _WRITTEN_COLUMNS if c not in table.columns]
    if missing:
        msg = (f"{csv_path}: expected the column(s) {', '.join(missing)} (an import records "
               f"the geometry's source and precision there), found no such column(s); add "
               f"{'them' if len(missing) > 1 else 'it'} to the header, empty, and import again")
        raise CcamapError(msg)
    matches = [f for f in doc["features"] if isinstance(f, dict)
               and (f.get("properties") or {}).get("id", f.get("id")) == feature_id]
    rows = list(table.index[table["id"] == feature_id]) if "id" in table else []
    if len(matches) != 1 or len(rows) != 1:
        msg = (f"{geo_path}: expected one feature and one row with id {feature_id!r}, found "
               f"{len(matches)} feature(s) and {len(rows)} row(s)")
        raise CcamapError(msg)
    feat, row = matches[0], rows[0]
    old_error = None
    if lay.is_line:
        if "route_error_km" not in table.columns:
            table["route_error_km"] = ""
        old_error = _old_route_error(str(table.loc[row, "route_error_km"]).strip())
        if given_error is None and old_error is None:
            msg = (f"{csv_path}: expected --route-error-km for {feature_id!r} (the estimated "
                   f"largest distance in km between the new geometry and the real route), "
                   f"found no option and no previous estimate to carry over")
            raise CcamapError(msg)

    new = _validate_new(read_new_geometry(file, feature_index=feature_index, where=where),
                        lay, feature_id, source_id, Path(file))
    old = shape(feat["geometry"]) if feat.get("geometry") else None
    n_old = len(shapely.get_coordinates(old)) if old is not None else 0
    moved = _max_distance_km(old, new) if old is not None else 0.0
    new_error, basis = None, ""
    if given_error is not None:
        new_error, basis = given_error, "given"
    elif old_error is not None:
        new_error, basis = math.ceil(round((old_error + moved) * 10, 6)) / 10, "carried"
    preview = ImportPreview(
        lay.name, feature_id,
        _length(old, lay) if old is not None else None, _length(new, lay),
        n_old, len(shapely.get_coordinates(new)), moved, new_error, basis,
    )
    if confirm is not None and not confirm(preview):
        return ImportResult(preview, applied=False, backup=None)

    originals = {p: p.read_bytes() for p in (geo_path, csv_path)}
    backup = _write_backup(geodata, originals)

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
    if new_error is not None:
        table.loc[row, "route_error_km"] = _number(new_error)
        basis_ids = [source_id] if basis == "given" else _field_source(
            str(table.loc[row, "field_sources"]), "route_error_km")
        if source_id not in basis_ids:
            basis_ids.append(source_id)
        table.loc[row, "field_sources"] = _set_field_source(
            str(table.loc[row, "field_sources"]), "route_error_km", ",".join(basis_ids))
    newline = "\r\n" if b"\r\n" in originals[csv_path] else "\n"
    replace_files({
        geo_path: (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
        csv_path: _csv_text(table, newline).encode("utf-8"),
    }, backup=backup, what="the imported geometry")
    try:
        report, _, _ = validate(geodata, [lay.name])
        if report.errors:
            problems = "\n".join(p.format() for p in report.errors)
            msg = f"expected {lay.name} to validate after the import, found:\n{problems}"
            raise CcamapError(msg)
    except BaseException:
        replace_files(originals, backup=backup, what="the previous version back")
        raise
    return ImportResult(preview, applied=True, backup=backup)


def _write_backup(geodata: Path, originals: dict[Path, bytes]) -> Path:
    """Copy the files an import changes to a new ``geodata/.backup/<UTC time>/``; return it.

    Raises
    ------
    CcamapError
        If the backup cannot be written (then nothing has changed).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup, n = geodata / BACKUP_DIR / stamp, 1
    while backup.exists():
        backup, n = geodata / BACKUP_DIR / f"{stamp}-{n}", n + 1
    try:
        backup.mkdir(parents=True)
        for path, data in originals.items():
            with atomic_write(backup / path.name, "wb", encoding=None) as fh:
                fh.write(data)
    except OSError as exc:
        msg = (f"{exc.filename or backup}: expected to write a backup, found "
               f"{exc.strerror or exc}; nothing changed")
        raise CcamapError(msg) from None
    return backup
