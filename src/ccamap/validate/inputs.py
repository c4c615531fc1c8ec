"""What validation hands on: one layer's checked input, and helpers every check shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ccamap import rules
from ccamap.errors import LoadError
from ccamap.layers import Layer
from ccamap.report import Report
from ccamap.safety import RESERVED_COLUMNS

__all__ = ["ID_PATTERN", "LayerInput", "record_load_error", "short", "split_list"]

#: A feature or source id: a lowercase slug like ``rail-cku``.
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: What a reserved column or property name should be instead, for messages.
RESERVED_EXPECTED = ("a name ccamap does not set itself (not " + ", ".join(RESERVED_COLUMNS)
                     + ")")


@dataclass
class LayerInput:
    """One layer's checked input: geometries and typed attributes, not yet joined.

    Attributes
    ----------
    layer
        The registry entry.
    geometry_file, attribute_file
        The files read.
    geometries
        ``id``, ``waypoints``, ``coordinate_sources`` and ``geometry`` of every usable feature.
    attributes
        One row per record, parsed to the registry's types (missing values are ``None``).
    """

    layer: Layer
    geometry_file: Path
    attribute_file: Path
    geometries: gpd.GeoDataFrame
    attributes: pd.DataFrame


def record_load_error(exc: LoadError, report: Report,
                      message: str = "cannot read the file") -> None:
    """Record a file that could not be read, with its rule, position and hint."""
    where = f"line {exc.line}, column {exc.column}" if exc.line is not None else ""
    report.add(rules.rule(exc.code), file=exc.path, field=where, expected=exc.expected,
               found=exc.found, message=message + (f"; {exc.hint}" if exc.hint else ""))


def short(value: object) -> str:
    """Return ``repr(value)``, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def split_list(value: str) -> list[str]:
    """Split a ``;``-separated cell into its stripped, non-empty items."""
    return [v.strip() for v in value.split(";") if v.strip()]
