"""The layer registry: every layer declared once, with its geometry, attribute schema and style."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ccamap.errors import UsageError

__all__ = [
    "COMMON_FIELDS",
    "LAYERS",
    "OKABE_ITO",
    "PRECISIONS",
    "ROUTE_ERROR",
    "STATUSES",
    "STATUS_STYLE",
    "CrossingPorts",
    "Field",
    "Layer",
    "get_layer",
    "layer_names",
]

#: Lifecycle statuses, exactly as Global Energy Monitor's trackers use them.
STATUSES: tuple[str, ...] = (
    "announced",
    "pre-construction",
    "construction",
    "operating",
    "shelved",
    "cancelled",
    "mothballed",
    "retired",
)

#: How precise a geometry is: ``exact`` (the site itself), ``approximate`` (the site known within
#: about 5 km), ``locality`` (a point placed at the nearest named place because the site itself
#: is unknown; its one waypoint names that place), ``schematic`` (a line through named
#: waypoints, or a point placed on its parent's schematic line).
PRECISIONS: tuple[str, ...] = ("exact", "approximate", "locality", "schematic")

FieldKind = Literal["text", "int", "float", "list", "iso3", "iso3_list", "choice", "choice_list"]


@dataclass(frozen=True)
class Field:
    """One attribute column.

    Parameters
    ----------
    name
        Column name in the attribute table.
    kind
        How the CSV text is parsed: ``text``, ``int``, ``float``, ``list`` (``;``-separated),
        ``iso3`` / ``iso3_list`` (ISO 3166-1 alpha-3 codes), ``choice`` / ``choice_list``.
    required
        Whether every record must have a value.
    factual
        Whether a value is a claim that a source must back (listed in ``field_sources``).
    choices
        The allowed values of a ``choice`` or ``choice_list`` field.
    label
        Human-readable label for popups and legends.
    """

    name: str
    kind: FieldKind = "text"
    required: bool = False
    factual: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""

    @property
    def title(self) -> str:
        """The label, or the name made readable."""
        return self.label or self.name.replace("_", " ").capitalize()


#: Columns every attribute table has, in this order.
COMMON_FIELDS: tuple[Field, ...] = (
    Field("id", required=True, label="ID"),
    Field("name", required=True, label="Name"),
    Field("name_zh", label="Name (Chinese)"),
    Field("name_ru", label="Name (Russian)"),
    Field("countries", "iso3_list", required=True, label="Countries"),
    Field("status", "choice", required=True, factual=True, choices=STATUSES, label="Status"),
    Field("status_year", "int", factual=True, label="Status year"),
    Field("start_year", "int", factual=True, label="Start year"),
    Field("completion_year", "int", factual=True, label="Completion year"),
    Field("owners", "list", factual=True, label="Owners"),
    Field("operators", "list", factual=True, label="Operators"),
    Field("builders", "list", factual=True, label="Builders"),
    Field("capacity", "float", factual=True, label="Capacity"),
    Field("capacity_unit", label="Capacity unit"),
    Field("length_km_reported", "float", factual=True, label="Reported length (km)"),
    Field("cost_usd_m", "float", factual=True, label="Cost (USD million)"),
    Field("description", required=True, label="Description"),
    Field("geometry_precision", "choice", required=True, choices=PRECISIONS, label="Precision"),
    Field("sources", "list", required=True, label="Sources"),
    Field("field_sources", label="Field sources"),
    Field("notes", label="Notes"),
    Field("editor_notes", label="Editors' notes"),
)

#: The Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"): every
#: category colour of every layer is one of these; ``tests/test_reader.py`` checks each layer's
#: colours stay apart under a simulated deuteranopia.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
_OI = OKABE_ITO

#: How status is drawn: dash pattern and opacity; ``None`` colour keeps the layer's colour.
STATUS_STYLE: dict[str, dict[str, str | float | None]] = {
    "operating": {"dash": None, "opacity": 0.9, "color": None},
    "construction": {"dash": "8 6", "opacity": 0.9, "color": None},
    "pre-construction": {"dash": "2 6", "opacity": 0.75, "color": None},
    "announced": {"dash": "2 6", "opacity": 0.6, "color": None},
    "shelved": {"dash": "2 6", "opacity": 0.5, "color": "#8c8c8c"},
    "mothballed": {"dash": None, "opacity": 0.5, "color": "#8c8c8c"},
    "cancelled": {"dash": "4 4", "opacity": 0.5, "color": "#8c8c8c"},
    "retired": {"dash": None, "opacity": 0.4, "color": "#8c8c8c"},
}


@dataclass(frozen=True)
class CrossingPorts:
    """Where a line layer must have a port at each land border it crosses.

    Parameters
    ----------
    layer
        The layer of ports (it declares its :attr:`Layer.sides`).
    field
        The ports' field listing what crosses there (``modes``).
    value
        The value of ``field`` a port needs (``rail``).
    noun
        What one feature of the line layer is called in messages (``railway``).
    """

    layer: str
    field: str
    value: str
    noun: str


@dataclass(frozen=True)
class Layer:
    """One layer of the map.

    Parameters
    ----------
    name
        Machine name, also the stem of its files in ``geodata/``.
    title
        Human-readable name.
    geometry_types
        The geometry types allowed.
    fields
        The layer's own columns, after the common ones.
    color
        The layer's colour.
    category_field
        A field whose values choose the colour (``category_colors``).
    category_colors
        Colour of each value of ``category_field``.
    size_field
        A numeric field that sizes point symbols (area proportional to the value).
    accuracy_field
        A field every record must fill (``route-error``): the estimated maximum distance in km
        between the drawing and the real route, on every line.
    sides
        Two ISO3 fields naming the countries on either side of a border (``country_a``,
        ``country_b``): each must be among ``countries`` (``port-countries``), and the point
        must lie near the border between them (``port-border``).
    crossing_ports
        For a line layer: where its land-border crossings need a port (``rail-crossing-port``).
    """

    name: str
    title: str
    geometry_types: tuple[str, ...]
    fields: tuple[Field, ...] = ()
    color: str = "#3388ff"
    category_field: str | None = None
    category_colors: dict[str, str] = field(default_factory=dict)
    size_field: str | None = None
    accuracy_field: str | None = None
    sides: tuple[str, str] | None = None
    crossing_ports: CrossingPorts | None = None

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """The common fields followed by the layer's own."""
        return COMMON_FIELDS + self.fields

    @property
    def columns(self) -> list[str]:
        """Column names of the attribute table, in order."""
        return [f.name for f in self.all_fields]

    @property
    def is_line(self) -> bool:
        """Whether the layer holds lines."""
        return "LineString" in self.geometry_types

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.all_fields:
            if f.name == name:
                return f
        msg = f"layer {self.name!r} has no field {name!r}; expected one of {self.columns}"
        raise KeyError(msg)


_LINES = ("LineString", "MultiLineString")

#: Every line's route accuracy: the estimated maximum distance (km) from the drawing to the real
#: route. Validation requires it on every line (``route-error``); maps can draw it as a halo.
ROUTE_ERROR = Field("route_error_km", "float", factual=True, label="Route accuracy")

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer(
            "railways",
            "Railways and rail corridors",
            _LINES,
            (
                Field("gauge_mm", "list", factual=True, label="Gauge (mm)"),
                Field("electrified", "choice", factual=True, choices=("yes", "no", "partly")),
                Field("tunnels", factual=True),
                ROUTE_ERROR,
            ),
            color=_OI["black"],
            accuracy_field=ROUTE_ERROR.name,
            crossing_ports=CrossingPorts("border_ports", "modes", "rail", "railway"),
        ),
        Layer(
            "pipelines",
            "Pipelines",
            _LINES,
            (
                Field("substance", "choice", required=True, factual=True, choices=("gas", "oil")),
                Field("diameter_mm", "list", factual=True, label="Diameter (mm)"),
                Field("geometry_source_id", "list",
                      label="Geometry from (Global Energy Monitor route id)"),
                Field("geometry_provenance", "choice", choices=("gem", "osm-odbl"),
                      label="Geometry provenance"),
                Field("geometry_licence", "choice", choices=("CC-BY-4.0", "ODbL-1.0"),
                      label="Geometry licence"),
                ROUTE_ERROR,
            ),
            color=_OI["blue"],
            category_field="substance",
            category_colors={"gas": _OI["blue"], "oil": _OI["bluish_green"]},
            accuracy_field=ROUTE_ERROR.name,
        ),
        Layer(
            "highways",
            "Highways and road corridors",
            _LINES,
            (Field("road_class", factual=True, label="Road class"), ROUTE_ERROR),
            color=_OI["orange"],
            accuracy_field=ROUTE_ERROR.name,
        ),
        Layer(
            "power_plants",
            "Power plants and energy sites",
            ("Point",),
            (
                Field(
                    "technology",
                    "choice",
                    required=True,
                    factual=True,
                    choices=(
                        "coal", "gas", "hydro", "wind", "solar",
                        "oil_field", "gas_field", "refinery",
                    ),
                ),
                Field("generation_gwh_y", "float", factual=True, label="Generation (GWh/y)"),
            ),
            color=_OI["bluish_green"],
            category_field="technology",
            category_colors={
                "coal": _OI["black"],
                "gas": _OI["orange"],
                "hydro": _OI["blue"],
                "wind": _OI["sky_blue"],
                "solar": _OI["yellow"],
                "oil_field": _OI["vermillion"],
                "gas_field": _OI["reddish_purple"],
                "refinery": _OI["bluish_green"],
            },
            size_field="capacity",
        ),
        Layer(
            "border_ports",
            "Border ports",
            ("Point",),
            (
                Field("country_a", "iso3", required=True, label="Country A"),
                Field("country_b", "iso3", required=True, label="Country B"),
                Field("name_a", label="Name on side A"),
                Field("name_b", label="Name on side B"),
                Field(
                    "modes", "choice_list", required=True, factual=True,
                    choices=("road", "rail", "pipeline"),
                ),
                Field("opened_year", "int", factual=True, label="Opened"),
            ),
            color=_OI["black"],
            category_field="modes",
            category_colors={
                "road": _OI["orange"],
                "rail": _OI["black"],
                "rail;road": _OI["vermillion"],
                "pipeline;rail": _OI["blue"],
                "pipeline;rail;road": _OI["reddish_purple"],
                "pipeline;road": _OI["sky_blue"],
            },
            sides=("country_a", "country_b"),
        ),
        Layer(
            "sites",
            "Hubs, centres and other sites",
            ("Point",),
            (
                Field(
                    "kind",
                    "choice",
                    required=True,
                    choices=(
                        "tunnel", "logistics_hub", "cooperation_centre", "training_centre",
                        "health_centre", "environmental_project", "agro_industrial",
                        "security_centre",
                    ),
                ),
                Field("parent_id", label="Part of"),
            ),
            color=_OI["bluish_green"],
            category_field="kind",
            category_colors={
                "tunnel": _OI["black"],
                "logistics_hub": _OI["orange"],
                "cooperation_centre": _OI["blue"],
                "training_centre": _OI["reddish_purple"],
                "health_centre": _OI["bluish_green"],
                "environmental_project": _OI["sky_blue"],
                "agro_industrial": _OI["yellow"],
                "security_centre": _OI["vermillion"],
            },
        ),
    )
}


def layer_names() -> list[str]:
    """Return the registered layer names, in registry order."""
    return list(LAYERS)


def get_layer(name: str) -> Layer:
    """Return the layer called ``name``.

    Raises
    ------
    UsageError
        If no layer has that name; the message lists the layers.
    """
    try:
        return LAYERS[name]
    except KeyError:
        msg = f"unknown layer {name!r}; expected one of: {', '.join(LAYERS)}"
        raise UsageError(msg) from None
