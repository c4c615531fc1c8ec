"""Checks across a layer's two files: the join by id, citations, and what each record must hold.

Each check runs over whole columns; its problems go to the record they concern, and the records'
problems are written in table order, each record's in the order of the checks below.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ccamap import rules, settings
from ccamap.geo import geodesic_length_km
from ccamap.layers import Layer
from ccamap.report import Report
from ccamap.validate.inputs import short
from ccamap.validate.sources import parse_field_sources

__all__ = ["check_join"]

#: Cyrillic letters that look like Latin ones (for reporting near-identical keys).
_HOMOGLYPHS = str.maketrans("аеорсухкмтвнАЕОРСХКМТВН", "aeopcyxkmtbhAEOPCXKMTBH")


def _norm_key(key: str) -> str:
    return unicodedata.normalize("NFKC", key).translate(_HOMOGLYPHS).strip().casefold()


def check_join(
    geometries: gpd.GeoDataFrame,
    attributes: pd.DataFrame,
    layer: Layer,
    files: tuple[str, str],
    sources: pd.DataFrame,
    report: Report,
) -> None:
    """Check that geometries and attribute rows match one to one, and every citation resolves.

    Parameters
    ----------
    geometries, attributes
        The checked inputs.
    layer
        Their layer.
    files
        The geometry file and the attribute file, for messages.
    sources
        The sources table, indexed by id.
    report
        Where problems are recorded.
    """
    geo_file, attr_file = files
    geo_ids = set(geometries["id"])
    attr_ids = set(attributes["id"]) if "id" in attributes else set()
    attr_norm: dict[str, str] = {_norm_key(k): k for k in attr_ids - geo_ids}
    for gid in sorted(geo_ids - attr_ids):
        near = attr_norm.get(_norm_key(gid))
        if near is not None:
            report.add(rules.KEY_MISMATCH, file=attr_file, feature_id=near, field="id",
                       expected=repr(gid), found=repr(near),
                       message="attribute key differs from the geometry id only by whitespace, "
                               "case, Unicode form or look-alike letters")
        else:
            report.add(rules.ORPHAN_GEOMETRY, file=geo_file, feature_id=gid, field="id",
                       expected=f"a row in {attr_file}", found="no row",
                       message="geometry has no attribute row")
    geo_norm = {_norm_key(k) for k in geo_ids}
    rejected = set(geometries.attrs.get("rejected", []))
    for aid in sorted(attr_ids - geo_ids - rejected):
        if _norm_key(aid) not in geo_norm:
            report.add(rules.ORPHAN_ATTRIBUTES, file=attr_file, feature_id=aid, field="id",
                       expected=f"a feature in {geo_file}", found="no feature",
                       message="attribute row has no geometry")
    by_id = geometries.set_index("id")
    if layer.is_line and "length_km_reported" in attributes:
        _check_lengths(by_id, attributes, geo_file, report)
    if "id" in attributes and len(attributes):
        _Records(attributes, by_id, layer, files, sources).check(report)


def _check_lengths(
    by_id: gpd.GeoDataFrame, attributes: pd.DataFrame, file: str, report: Report
) -> None:
    """Warn where a reported length and the drawn geodesic length disagree."""
    reported = attributes.dropna(subset=["length_km_reported"]).set_index("id")
    reported = reported[reported.index.isin(by_id.index)]
    if reported.empty:
        return
    drawn = geodesic_length_km(by_id.loc[reported.index].geometry)
    tolerance = settings.LENGTH_TOLERANCE
    claimed = reported["length_km_reported"].astype(float).to_numpy()
    computed = drawn.to_numpy()
    fids = reported.index.tolist()
    for i in np.flatnonzero(np.abs(computed - claimed) > tolerance * claimed).tolist():
        report.add(rules.LENGTH_MISMATCH, file=file, feature_id=fids[i],
                   field="length_km_reported",
                   expected=f"within {tolerance:.0%} of the geodesic {computed[i]:g} km",
                   found=f"{claimed[i]:g} km", message="reported length and drawn length disagree")


class _Records:
    """The record checks of one layer, each over whole columns, problems kept per record."""

    def __init__(self, attributes: pd.DataFrame, by_id: gpd.GeoDataFrame, layer: Layer,
                 files: tuple[str, str], sources: pd.DataFrame) -> None:
        self.table = attributes
        self.n = len(attributes)
        self.ids = attributes["id"].tolist()
        self.by_id = by_id
        self.layer = layer
        self.geo_file, self.file = files
        self.known = set(sources.index)
        self.found: defaultdict[int, Report] = defaultdict(Report)

    def column(self, name: str) -> list[Any]:
        """Return a column's values (all ``None`` if the table lacks it)."""
        return self.table[name].tolist() if name in self.table else [None] * self.n

    def add(self, row: int, rule: rules.Rule, field: str, expected: str, found: str,
            message: str, *, geometry: bool = False) -> None:
        """Record a problem of the record in ``row``."""
        self.found[row].add(rule, file=self.geo_file if geometry else self.file,
                            feature_id=self.ids[row], field=field, expected=expected,
                            found=found, message=message)

    def check(self, report: Report) -> None:
        """Run every check, then write each record's problems in table order."""
        cited = [c or [] for c in self.column("sources")]
        self.check_sources(cited)
        backed = self.check_field_sources(cited)
        self.check_values(backed)
        self.check_geometry()
        for row in sorted(self.found):
            report.problems.extend(self.found[row].problems)

    def check_sources(self, cited: list[list[str]]) -> None:
        """Every cited source exists."""
        flat = pd.Series(cited, dtype=object).explode().dropna()
        unknown = flat[~flat.isin(self.known)]
        for row, sid in zip(unknown.index.tolist(), unknown.tolist(), strict=True):
            self.add(row, rules.UNKNOWN_SOURCE, "sources", "an id of sources.csv",
                     repr(sid), "cited source does not exist")

    def check_field_sources(self, cited: list[list[str]]) -> list[dict[str, list[str]]]:
        """Parse ``field_sources``; each names a column and sources the record cites."""
        columns = set(self.layer.columns)
        parsed = [parse_field_sources(text or "") for text in self.column("field_sources")]
        for row, (fields, bad) in enumerate(parsed):
            for part in bad:
                self.add(row, rules.FIELD_SOURCES_SYNTAX, "field_sources",
                         "field=source[,source]; …", repr(part), "cannot parse field_sources")
            for fname, sids in fields.items():
                if fname not in columns:
                    self.add(row, rules.UNKNOWN_FIELD, "field_sources", "a column name",
                             repr(fname), "field_sources names a column that does not exist")
                for sid in sids:
                    if sid not in self.known:
                        self.add(row, rules.UNKNOWN_SOURCE, "field_sources",
                                 "an id of sources.csv", repr(sid),
                                 "cited source does not exist")
                    elif sid not in cited[row]:
                        self.add(row, rules.UNCITED_SOURCE, "field_sources",
                                 "field sources listed in 'sources' too", repr(sid),
                                 "field source missing from the record's sources")
        return [fields for fields, _ in parsed]

    def check_values(self, backed: list[dict[str, list[str]]]) -> None:
        """Factual values are sourced; what a value needs beside it is there."""
        layer = self.layer
        for f in layer.all_fields:
            if not f.factual or f.name not in self.table:
                continue
            has = self.table[f.name].map(lambda v: v not in (None, [])).to_numpy(dtype=bool)
            listed = np.array([f.name in b for b in backed], dtype=bool)
            for row in np.flatnonzero(has & ~listed).tolist():
                self.add(row, rules.UNSOURCED_FIELD, f.name, "an entry in field_sources",
                         "none", "value has no field source")
        for i, (status, year) in enumerate(zip(self.column("status"),
                                                 self.column("status_year"), strict=True)):
            if status and year is None:
                self.add(i, rules.STATUS_YEAR_UNKNOWN, "status_year",
                         "the year the status was last confirmed", "nothing",
                         "no source dates the status")
        if layer.accuracy_field is not None:
            for i, value in enumerate(self.column(layer.accuracy_field)):
                if value is None:
                    self.add(i, rules.ROUTE_ERROR, layer.accuracy_field,
                             "the estimated maximum distance in km between the drawing and the "
                             "real route", "nothing", "line without a route accuracy")
        for i, (capacity, unit) in enumerate(zip(self.column("capacity"),
                                                   self.column("capacity_unit"), strict=True)):
            if capacity is not None and not unit:
                self.add(i, rules.MISSING_UNIT, "capacity_unit", "a unit (MW, bcm/y…)",
                         "nothing", "capacity without a unit")
        if layer.sides is not None:
            countries = [c or [] for c in self.column("countries")]
            sides = list(zip(*(self.column(side) for side in layer.sides), strict=True))
            for i, values in enumerate(sides):
                for side, value in zip(layer.sides, values, strict=True):
                    if value and value not in countries[i]:
                        self.add(i, rules.PORT_COUNTRIES, side, f"{value} in countries",
                                 ";".join(countries[i]),
                                 "port side not among the record's countries")

    def check_geometry(self) -> None:
        """Check what each drawing needs: a fitting precision, names and sources per vertex."""
        by_id, is_line = self.by_id, self.layer.is_line
        drawn = np.flatnonzero(pd.Index(self.ids, dtype=object).isin(by_id.index))
        if not len(drawn):
            return
        feats = by_id.loc[[self.ids[i] for i in drawn]]
        n_vertices = shapely.get_num_coordinates(np.asarray(feats.geometry, dtype=object))
        precision = self.column("geometry_precision")
        parent = self.column("parent_id")
        for row, nv, waypoints, coord_sources in zip(
                drawn.tolist(), n_vertices.tolist(), feats["waypoints"].tolist(),
                feats["coordinate_sources"].tolist(), strict=True):
            self.check_vertices(row, precision[row], parent[row], nv, waypoints, coord_sources,
                                is_line)

    def check_vertices(self, row: int, precision: Any, parent: Any, n_vertices: int,
                       waypoints: list[Any], coord_sources: list[Any], is_line: bool) -> None:
        """Check one drawn record's precision, waypoints and coordinate sources."""
        if precision == "schematic" and not is_line and not parent:
            self.add(row, rules.PRECISION, "geometry_precision",
                     "exact, approximate or locality for a point (schematic only for a point "
                     "placed on its parent_id's schematic line)", "schematic",
                     "points cannot be schematic")
        if precision == "locality" and is_line:
            self.add(row, rules.PRECISION, "geometry_precision",
                     "exact, approximate or schematic for a line (locality is for points)",
                     "locality", "lines cannot be locality")
        if precision == "locality" and not is_line:
            named = [w for w in waypoints if isinstance(w, str) and w.strip()]
            if len(waypoints) != n_vertices or len(named) != n_vertices:
                self.add(row, rules.LOCALITY_PLACE, "waypoints", "the name of the place the "
                         "point stands on (one non-empty waypoint name)", short(list(waypoints)),
                         "a locality point must name its place", geometry=True)
        if precision == "schematic" and len(waypoints) != n_vertices:
            self.add(row, rules.WAYPOINTS, "waypoints",
                     f"{n_vertices} waypoint names (one per vertex)", f"{len(waypoints)}",
                     "schematic line must name every waypoint", geometry=True)
        joined = [w for w in waypoints if isinstance(w, str) and ";" in w]
        if joined:
            self.add(row, rules.LIST_SEPARATOR, "waypoints", "names without ';' (the flat "
                     "exports join a list with '; ')", short(joined),
                     f"{len(joined)} waypoint name(s) hold the list separator", geometry=True)
        if len(coord_sources) != len(waypoints):
            self.add(row, rules.COORDINATE_SOURCES, "coordinate_sources",
                     f"{len(waypoints)} entries (one per waypoint)", f"{len(coord_sources)}",
                     "each waypoint needs the source of its coordinate", geometry=True)
        if not coord_sources:
            self.add(row, rules.COORDINATE_SOURCES, "coordinate_sources",
                     "the source of each coordinate", "none", "coordinates have no source",
                     geometry=True)
        for entry in dict.fromkeys(coord_sources):
            if str(entry).split(":", 1)[0] not in self.known:
                self.add(row, rules.UNKNOWN_SOURCE, "coordinate_sources",
                         "an id of sources.csv", repr(entry), "coordinate source does not exist",
                         geometry=True)
