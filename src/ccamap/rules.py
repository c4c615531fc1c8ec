"""The registry of problem codes: every code ccamap reports, with its severity and meaning.

Each :class:`Rule` is declared once here and passed to :meth:`ccamap.report.Report.add`, which
takes the severity from the rule (no call chooses one). The README's problem-code table is
generated from this registry (``python -m ccamap.rules --markdown``) and a test fails when the
two disagree.

This module imports nothing from ccamap: readers, validation and repairs all sit above it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

__all__ = ["RULES", "Rule", "Severity", "markdown_table", "rule"]

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Rule:
    """One problem code.

    Parameters
    ----------
    code
        The stable machine-readable code (``duplicate-id``).
    severity
        ``error`` (the data is wrong), ``warning`` (suspicious or repaired) or ``info``.
    summary
        What it means, one sentence for the README's table (Markdown).
    """

    code: str
    severity: Severity
    summary: str


#: Every rule, by code, in the order the README lists them.
RULES: dict[str, Rule] = {}


def _rule(code: str, severity: Severity, summary: str) -> Rule:
    if code in RULES:  # pragma: no cover - caught when the module is written
        msg = f"expected each code once in the registry, found {code!r} twice"
        raise ValueError(msg)
    RULES[code] = Rule(code, severity, summary)
    return RULES[code]


def rule(code: str) -> Rule:
    """Return the rule of ``code`` (codes carried by a :class:`~ccamap.errors.LoadError`).

    Raises
    ------
    KeyError
        If no rule has that code.
    """
    try:
        return RULES[code]
    except KeyError:
        msg = f"expected a registered problem code, found {code!r}"
        raise KeyError(msg) from None


# --------------------------------------------------------------------------- reading files

JSON_SYNTAX = _rule("json-syntax", "error", "the file is not valid JSON (line and column given)")
JSON_CONSTANT = _rule("json-constant", "error",
                      "a non-standard JSON literal (`NaN`, `Infinity`)")
JSON_DUPLICATE_KEY = _rule("json-duplicate-key", "error", "a key twice in one JSON object")
JSON_SURROGATE = _rule("json-surrogate", "error",
                       "a `\\uD800`–`\\uDFFF` escape that is not half of a pair")
ENCODING = _rule("encoding", "error", "the file is not UTF-8 (line and column given)")
UNREADABLE = _rule("unreadable", "error", "the file cannot be read")
LOAD = _rule("load", "error", "the file cannot be read or parsed")
LIMIT = _rule("limit", "error", "the file is over one of the ceilings of `ccamap.settings` "
              "(see Limits)")
OUTSIDE_LINK = _rule("outside-link", "error",
                     "the file is a link to a file outside its directory (see Limits)")
GEOJSON_TYPE = _rule("geojson-type", "error",
                     "not a GeoJSON FeatureCollection with a `features` array")
CRS_UNKNOWN = _rule("crs-unknown", "error", "a `crs` member naming an unknown CRS")
CSV_HEADER = _rule("csv-header", "error",
                   "the attribute table has no header row, or repeats a column name")
CSV_ROW = _rule("csv-row", "error",
                "the attribute table is not a rectangular CSV (a row of another width)")
UTF8_BOM = _rule("utf8-bom", "warning",
                 "a UTF-8 byte-order mark was skipped (`--fix` removes it)")
REPROJECTED = _rule("reprojected", "warning", "a legacy `crs` member named a projected CRS; "
                    "coordinates were reprojected to WGS84")
CRS_MEMBER = _rule("crs-member", "info", "a `crs` member naming WGS84 lon/lat, ignored")

# --------------------------------------------------------------------------- features and geometry

FEATURE_TYPE = _rule("feature-type", "error", "an item of `features` is not a GeoJSON Feature")
MISSING_ID = _rule("missing-id", "error", "a feature without an id")
ID_TYPE = _rule("id-type", "error", "an id that is not a string (write `\"007\"`, not `7`)")
DUPLICATE_ID = _rule("duplicate-id", "error",
                     "a second feature, row or source with the same id")
ID_FORMAT = _rule("id-format", "error", "an id that is not a lowercase slug like `rail-cku`")
NULL_GEOMETRY = _rule("null-geometry", "error", "a feature without a geometry")
EMPTY_GEOMETRY = _rule("empty-geometry", "error", "an empty geometry")
GEOMETRY_TYPE = _rule("geometry-type", "error",
                      "a geometry type the layer does not hold (type names are case-sensitive)")
COORDINATES = _rule("coordinates", "error",
                    "no coordinates array, or coordinates nested otherwise than the type "
                    "requires")
POSITION = _rule("position", "error", "a position that is not 2 finite numbers (lon, lat)")
DEGENERATE_LINE = _rule("degenerate-line", "error", "a line of fewer than 2 distinct points")
INVALID_GEOMETRY = _rule("invalid-geometry", "error",
                         "a geometry shapely cannot build, or reports invalid "
                         "(`is_valid_reason`)")
NAN_COORDINATE = _rule("nan-coordinate", "error", "a NaN coordinate")
ANTIMERIDIAN = _rule("antimeridian", "error",
                     "a segment longer than 180° of longitude (a dateline jump)")
OUT_OF_REGION = _rule("out-of-region", "error",
                      "a coordinate outside `settings.REGION_BBOX` (lon 20–125, lat 20–56)")
PROBABLE_SWAP = _rule("probable-swap", "error",
                      "a coordinate outside the region, inside it with lon and lat swapped")
PROJECTED_COORDINATES = _rule("projected-coordinates", "error",
                              "coordinates in metres, not degrees: declare the CRS or "
                              "reproject")
DUPLICATE_VERTEX = _rule("duplicate-vertex", "warning", "repeated consecutive vertices of a "
                         "line removed, with their waypoint entries (also a `--fix` repair)")
ALTITUDE_DROPPED = _rule("altitude-dropped", "warning", "a third coordinate dropped")
SELF_CROSSING = _rule("self-crossing", "info", "a line crosses itself (accepted)")

# --------------------------------------------------------------------------- attribute tables

MISSING_KEY_COLUMN = _rule("missing-key-column", "error", "the attribute table has no `id` "
                           "column")
MISSING_COLUMN = _rule("missing-column", "error",
                       "a required column is missing (attribute, sources or claims table)")
COLUMN_CASE = _rule("column-case", "error", "a column name differs from the schema only by case")
UNKNOWN_COLUMN = _rule("unknown-column", "warning", "a column not in the layer schema (kept)")
RESERVED_COLUMN = _rule(
    "reserved-column", "error",
    "an attribute column (or a GeoJSON property) named like one ccamap sets itself, in any "
    "case: `geometry`, `waypoints` and `coordinate_sources` (in the attribute table), `layer`, "
    "`length_km`, the map's `_first_year`, `_style`, `_tooltip`, `_card`, `_category`, and "
    "the export formats' `WKT`, `fid`, `geom`, `ogc_fid`, `bbox`")
REQUIRED = _rule("required", "error", "an empty required value (or a source without a title)")
NOT_INTEGER = _rule("not-integer", "error", "a value that is not an integer")
YEAR_RANGE = _rule("year-range", "error", "a year outside `settings.YEAR_RANGE`")
NOT_NUMBER = _rule("not-number", "error", "a value that is not a finite number >= 0")
STATUS_VOCABULARY = _rule("status-vocabulary", "error",
                          "a status outside Global Energy Monitor's vocabulary")
VOCABULARY = _rule("vocabulary", "error",
                   "a value outside the field's choices (or an unknown source kind)")
ISO3 = _rule("iso3", "error", "a value that is not ISO 3166-1 alpha-3 codes separated by `;`")
SCHEMA = _rule("schema", "error", "another schema check failed")

# --------------------------------------------------------------------------- join and records

ORPHAN_GEOMETRY = _rule("orphan-geometry", "error", "a geometry with no attribute row")
ORPHAN_ATTRIBUTES = _rule("orphan-attributes", "error", "an attribute row with no geometry")
KEY_MISMATCH = _rule("key-mismatch", "error",
                     "keys that differ only by whitespace, case, Unicode form or a look-alike "
                     "letter")
UNKNOWN_SOURCE = _rule("unknown-source", "error", "a cited source that is not in `sources.csv`")
UNCITED_SOURCE = _rule("uncited-source", "error",
                       "a field source that the record's `sources` does not list")
UNKNOWN_FIELD = _rule("unknown-field", "error", "`field_sources` names a column that does not "
                      "exist")
FIELD_SOURCES_SYNTAX = _rule("field-sources-syntax", "error",
                             "`field_sources` that is not `field=source[,source]; …`")
SOURCE_URL = _rule("source-url", "error", "a `web` source without an http(s) address")
UNSOURCED_FIELD = _rule("unsourced-field", "warning",
                        "a factual value with no entry in `field_sources`")
STATUS_YEAR_UNKNOWN = _rule("status-year-unknown", "info", "no source dates the status")
MISSING_UNIT = _rule("missing-unit", "error", "a capacity without a unit")
PRECISION = _rule("precision", "error", "a schematic point (other than one placed on its "
                  "`parent_id`'s line) or a `locality` line")
PORT_COUNTRIES = _rule("port-countries", "error", "a border side (`country_a`, `country_b`) "
                       "not among the record's `countries`")
WAYPOINTS = _rule("waypoints", "error", "a schematic geometry without a name per vertex")
LIST_SEPARATOR = _rule("list-separator", "warning", "a waypoint name holding `;`, the separator "
                       "the flat exports (CSV, KML, GeoPackage) join a list with: it would come "
                       "back as two names")
COORDINATE_SOURCES = _rule("coordinate-sources", "error",
                           "a vertex without the source of its coordinate")
LOCALITY_PLACE = _rule("locality-place", "error",
                       "a `locality` point without the name of the place it stands on")
ROUTE_ERROR = _rule("route-error", "error", "a line without `route_error_km` (the estimated "
                    "maximum distance between the drawing and the real route)")
LENGTH_MISMATCH = _rule("length-mismatch", "warning",
                        "the reported length and the geodesic length differ by more than "
                        "`settings.LENGTH_TOLERANCE` (25 %)")

# --------------------------------------------------------------------------- claims and catalogue

CLAIM_ID = _rule("claim-id", "error", "a row of `claims.csv` names a feature that does not "
                 "exist")
CLAIM_FIELD = _rule("claim-field", "error", "a claim on a field that is not a factual field of "
                    "the feature's layer")
CLAIM_SOURCE = _rule("claim-source", "error", "a claim citing a source not in `sources.csv`")
CLAIM_TYPE = _rule("claim-type", "error", "a claimed value that is empty or not of the field's "
                   "type (integer, number, status vocabulary, choices, text)")
CLAIM_AS_OF = _rule("claim-as-of", "error", "a claim's `as_of` that is not a year")
CLAIM_UNIT = _rule("claim-unit", "error", "a unit the field cannot have (`km` for lengths, "
                   "`USD m` for costs, none for non-numeric fields)")
CLAIM_DUPLICATE = _rule("claim-duplicate", "warning", "the same value from the same source twice")
CATALOGUE_ID = _rule("catalogue-id", "error", "`catalogue.csv` names an id that is not drawn")
CATALOGUE_REASON = _rule("catalogue-reason", "error",
                         "an undrawn catalogue item gives no reason")
NOT_CATALOGUED = _rule("not-catalogued", "warning",
                       "a drawn feature is missing from the catalogue")

# --------------------------------------------------------------------------- spatial checks

LINE_COUNTRIES = _rule("line-countries", "error",
                       "a line runs more than `settings.LINE_COUNTRY_TOLERANCE_KM` (20 km) "
                       "through a country it does not declare, or never reaches one it "
                       "declares (sea legs cross no country)")
LINE_COUNTRY_ORDER = _rule("line-country-order", "warning", "a line visits its countries in "
                           "another order than `countries` lists them")
LINE_ENDPOINT = _rule("line-endpoint", "error", "a line's first or last vertex is more than "
                      "`settings.LINE_ENDPOINT_TOLERANCE_KM` (5 km) outside its first or last "
                      "declared country")
POINT_COUNTRY = _rule("point-country", "error", "a point is more than "
                      "`settings.POINT_COUNTRY_TOLERANCE_KM` (5 km) from every country it "
                      "declares")
PORT_BORDER = _rule("port-border", "error", "a border port is more than "
                    "`settings.BORDER_PORT_DISTANCE_KM` (10 km) from the border between "
                    "`country_a` and `country_b` (or the two share no border)")
RAIL_CROSSING_PORT = _rule("rail-crossing-port", "warning",
                           "a railway crosses a land border with no rail border port of the "
                           "two countries within `settings.RAIL_CROSSING_PORT_KM` (15 km)")
BOUNDARY_UNKNOWN = _rule("boundary-unknown", "warning",
                         "a declared country has no outline in `boundaries.geojson`")
BOUNDARIES = _rule("boundaries", "error", "`boundaries.geojson` is not a FeatureCollection of "
                   "polygons with `iso3` codes")
SPATIAL_SKIPPED = _rule("spatial-skipped", "info",
                        "there is no `boundaries.geojson`: nothing was checked")

# --------------------------------------------------------------------------- repairs (--fix)

COORDINATE_PRECISION = _rule("coordinate-precision", "warning", "`--fix` rounded coordinates to "
                             "`settings.COORDINATE_PRECISION` decimals (not where a line would "
                             "collapse)")
KEY_WHITESPACE = _rule("key-whitespace", "warning",
                       "`--fix` removed whitespace around an `id`")
NUMBER_RANGE = _rule("number-range", "error", "`--fix` left a file alone: it holds a number too "
                     "large for a float (`1e400`), which would be written back as `Infinity`")


def markdown_table() -> str:
    """Return the README's problem-code table: one row per rule, in registry order."""
    rows = ["| code | severity | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{r.code}` | {r.severity} | {r.summary} |" for r in RULES.values()]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised by the README test through the function
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m ccamap.rules --markdown")
    sys.stdout.write(markdown_table())
