"""Validation of geometries, attributes, sources and the join between them.

Every check records a :class:`~ccamap.report.Problem` of a rule of :mod:`ccamap.rules` and goes
on; callers decide from the whole report whether to fail. One module per concern:

- :mod:`~ccamap.validate.geometry` and :mod:`~ccamap.validate.shapes`: GeoJSON features and the
  geometries built from them;
- :mod:`~ccamap.validate.attributes`: attribute tables, column by column;
- :mod:`~ccamap.validate.sources`: the sources table and ``field_sources``;
- :mod:`~ccamap.validate.records`: the join of the two files of a layer, and each record;
- :mod:`~ccamap.validate.claims` and :mod:`~ccamap.validate.catalogue`: the other tables;
- :mod:`~ccamap.validate.spatial`: geometries against the countries they declare.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ccamap import settings
from ccamap.errors import CcamapError, LoadError
from ccamap.layers import LAYERS, Layer
from ccamap.readers import gc_paused, read_attribute_table, read_feature_collection
from ccamap.report import Progress, Report
from ccamap.validate.attributes import check_attributes
from ccamap.validate.catalogue import check_catalogue
from ccamap.validate.claims import attach_claims
from ccamap.validate.geometry import check_features
from ccamap.validate.inputs import LayerInput, record_load_error
from ccamap.validate.records import check_join
from ccamap.validate.sources import SOURCE_COLUMNS, load_sources, parse_field_sources
from ccamap.validate.spatial import check_spatial

__all__ = [
    "SOURCE_COLUMNS",
    "LayerInput",
    "Progress",
    "Report",
    "check_attributes",
    "check_catalogue",
    "check_features",
    "check_join",
    "load_sources",
    "parse_field_sources",
    "validate",
    "validate_layer",
]


#: The steps of each layer, in order.
_LAYER_STEPS = ("geometry", "attributes", "join")


def validate_layer(
    layer: Layer | str,
    geodata: Path,
    sources: pd.DataFrame,
    report: Report,
    *,
    step: Callable[[str], None] | None = None,
) -> LayerInput | None:
    """Read and check one layer's geometry file and attribute table.

    Parameters
    ----------
    layer
        The layer (or its name).
    geodata
        The data directory.
    sources
        The sources table, indexed by id.
    report
        Where problems are recorded.
    step
        Told the name of each step (``geometry``, ``attributes``, ``join``) once it is done.

    Returns
    -------
    LayerInput or None
        The checked input, or ``None`` when a file could not be read at all (the load error is
        recorded in ``report``; the other file is still checked).
    """
    if isinstance(layer, str):
        layer = LAYERS[layer]
    tell = step or (lambda _name: None)
    geo_path = geodata / f"{layer.name}.geojson"
    attr_path = geodata / f"{layer.name}.csv"
    geometries = attributes = None
    try:
        doc = read_feature_collection(geo_path, report=report, compact=True)
        geometries = check_features(doc, layer, str(geo_path), report)
    except LoadError as exc:
        record_load_error(exc, report)
    tell("geometry")
    try:
        table = read_attribute_table(attr_path, report=report)
        attributes = check_attributes(table, layer, str(attr_path), report)
    except LoadError as exc:
        record_load_error(exc, report)
    tell("attributes")
    if geometries is None or attributes is None:
        return None
    check_join(geometries, attributes, layer, (str(geo_path), str(attr_path)), sources, report)
    tell("join")
    return LayerInput(layer, geo_path, attr_path, geometries, attributes)


def _prefixed(tell: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """Return ``tell`` with ``prefix`` put before each step's name."""
    return lambda what: tell(prefix + what)


def validate(
    geodata: str | Path | None = None,
    layers: list[str] | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[Report, dict[str, LayerInput], pd.DataFrame]:
    """Validate ``geodata/``: every layer named (all by default) and the sources table.

    Parameters
    ----------
    geodata
        The data directory (default :data:`ccamap.settings.GEODATA_DIR`).
    layers
        The layers to check (default: all, and then the catalogue too).
    progress
        Called with ``(stage, done, total)`` after each step: the sources, each layer's
        geometry, attributes and join, the catalogue, the claims, and each layer's spatial
        checks.

    Returns
    -------
    tuple
        The report, the checked inputs by layer name, and the sources table.

    Raises
    ------
    CcamapError
        If the sources table itself cannot be read.
    """
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    if not root.is_dir():
        msg = f"expected a geodata directory, found nothing at {root}"
        raise CcamapError(msg)
    names = layers or list(LAYERS)
    total = 1 + len(_LAYER_STEPS) * len(names) + 2 + len(names)
    done = 0

    def tell(stage: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(stage, done, total)

    with gc_paused():  # millions of coordinate lists: no cycles to collect, only walks to skip
        result = _validate(root, names, layers, tell)
    if progress is not None and done < total:  # steps of layers that could not be read
        progress("done", total, total)
    return result


def _validate(root: Path, names: list[str], layers: list[str] | None,
              tell: Callable[[str], None]) -> tuple[Report, dict[str, LayerInput], pd.DataFrame]:
    report = Report()
    sources = load_sources(root / "sources.csv", report)
    tell("sources")
    inputs: dict[str, LayerInput] = {}
    for name in names:
        result = validate_layer(LAYERS[name], root, sources, report,
                                step=_prefixed(tell, f"{name}: "))
        if result is not None:
            inputs[name] = result
    if not layers and (root / "catalogue.csv").exists():
        check_catalogue(root / "catalogue.csv", inputs, sources, report)
    tell("catalogue")
    attach_claims(root, inputs, sources, report, complete=not layers)
    tell("claims")
    check_spatial(inputs, root, report, step=lambda name: tell(f"{name}: countries"))
    return report, inputs, sources
