"""Contested figures: the other values sources give for a feature's field (``claims.csv``).

An attribute table keeps, per field, the value judged best supported. ``geodata/claims.csv``
records every alternative a source gives, one row per value and source::

    id,field,value,unit,as_of,source,note
    rail-cku,cost_usd_m,8000,USD m,2024,24kg-2024-cku-8bn,preliminary estimate for the project

Validation (:func:`check_claims`, called by :func:`ccamap.validate.validate`) checks that each
row names a known feature, a factual field of that feature's layer, a source of ``sources.csv``,
a value of the field's type and, if given, a year and a unit that fits the field. The checked
claims travel with the sources table (``sources.attrs["claims"]``, read with
:func:`claims_of`): cards list them under their field and every export carries them as a table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pycountry

from ccamap import settings
from ccamap.errors import LoadError
from ccamap.io import read_attribute_table
from ccamap.layers import Field, Layer
from ccamap.report import Report

if TYPE_CHECKING:
    from ccamap.validate import LayerInput

__all__ = [
    "CLAIMS_FILE",
    "CLAIM_COLUMNS",
    "EXPORT_COLUMNS",
    "FIELD_UNITS",
    "Claim",
    "Claims",
    "attach_claims",
    "check_claims",
    "claim_text",
    "claims_of",
]

#: The claims table, inside the geodata directory.
CLAIMS_FILE = "claims.csv"
#: Columns of ``claims.csv``, in this order.
CLAIM_COLUMNS = ("id", "field", "value", "unit", "as_of", "source", "note")
#: Columns of the claims table in exports (the layer added for joins in GIS tools).
EXPORT_COLUMNS = ("layer", "id", "field", "value", "unit", "as_of", "source", "note")
#: Fields whose unit the schema fixes: a claim on one gives that unit or none.
FIELD_UNITS: dict[str, str] = {
    "length_km_reported": "km",
    "cost_usd_m": "USD m",
    "generation_gwh_y": "GWh/y",
    "route_error_km": "km",
}
_NUMERIC = ("int", "float")


@dataclass(frozen=True)
class Claim:
    """One alternative value a source gives for one field of one feature.

    Attributes
    ----------
    layer, id, field
        The feature's layer and id, and the field the value is for.
    value
        The value parsed to the field's type (``int``, ``float`` or text; lists as ``;``-joined
        text).
    text
        The value as written in ``claims.csv``.
    unit
        Its unit as written (empty: the field's own unit).
    as_of
        The year the source gave it, or ``None`` when the source is undated.
    source
        The id of the source (a row of ``sources.csv``).
    note
        What the value covers or how it differs, in our words.
    """

    layer: str
    id: str
    field: str
    value: int | float | str
    text: str
    unit: str
    as_of: int | None
    source: str
    note: str

    def record(self) -> dict[str, Any]:
        """Return the claim as a row of the export table (:data:`EXPORT_COLUMNS`)."""
        return {"layer": self.layer, "id": self.id, "field": self.field, "value": self.text,
                "unit": self.unit or None, "as_of": self.as_of, "source": self.source,
                "note": self.note or None}


class Claims:
    """Checked claims, in file order, looked up by feature id.

    Immutable: pandas deep-copies ``attrs`` on most operations, and this object returns itself
    instead of a copy.
    """

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._rows = tuple(claims)
        self._by_id: dict[tuple[str, str], list[Claim]] = {}
        for claim in self._rows:
            self._by_id.setdefault((claim.layer, claim.id), []).append(claim)

    def __deepcopy__(self, memo: dict[int, Any]) -> Claims:
        return self

    def __copy__(self) -> Claims:
        return self

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Claims({len(self._rows)} claims)"

    def for_feature(self, layer: str, fid: object) -> list[Claim]:
        """Return the claims on one feature, in file order."""
        return list(self._by_id.get((layer, str(fid)), []))

    def frame(self, layers: Iterable[str] | None = None) -> pd.DataFrame:
        """Return the claims as a table of :data:`EXPORT_COLUMNS`, ``as_of`` as ``Int64``.

        Parameters
        ----------
        layers
            Only the claims on features of these layers (all by default).
        """
        keep = None if layers is None else set(layers)
        rows = [c.record() for c in self._rows if keep is None or c.layer in keep]
        frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS), dtype=object)
        frame["as_of"] = pd.array([None if v is None else int(v) for v in frame["as_of"]],
                                  dtype="Int64")
        return frame


def claims_of(sources: pd.DataFrame) -> Claims:
    """Return the claims attached to a sources table (none if validation attached none)."""
    claims = sources.attrs.get("claims")
    return claims if isinstance(claims, Claims) else Claims()


def attach_claims(
    geodata: Path,
    inputs: dict[str, LayerInput],
    sources: pd.DataFrame,
    report: Report,
    *,
    complete: bool = True,
) -> Claims:
    """Check ``geodata/claims.csv`` (if present) and attach the claims to ``sources``.

    Parameters
    ----------
    geodata
        The data directory.
    inputs
        The checked layers.
    sources
        The sources table; its ``attrs["claims"]`` is set.
    report
        Where problems are recorded.
    complete
        Whether ``inputs`` holds every layer: only then is a claim on an id that no layer has
        an error (otherwise it may belong to a layer not loaded, and is left out).
    """
    path = geodata / CLAIMS_FILE
    claims = check_claims(path, inputs, sources, report, complete=complete) \
        if path.exists() else Claims()
    sources.attrs["claims"] = claims
    return claims


def check_claims(
    path: Path,
    inputs: dict[str, LayerInput],
    sources: pd.DataFrame,
    report: Report,
    *,
    complete: bool = True,
) -> Claims:
    """Read and check a claims table; return the claims that passed every check.

    Each problem names the file, the feature id and the claimed field, with a code:
    ``claim-id`` (no feature has the id), ``claim-field`` (not a factual field of the feature's
    layer), ``claim-source`` (not an id of ``sources.csv``), ``claim-type`` (the value is empty
    or not of the field's type), ``claim-as-of`` (not a year), ``claim-unit`` (a unit the field
    cannot have) and, as a warning, ``claim-duplicate`` (the same value from the same source
    twice).

    Parameters
    ----------
    path
        The claims file.
    inputs
        The checked layers, by name.
    sources
        The sources table, indexed by id.
    report
        Where problems are recorded.
    complete
        Whether ``inputs`` holds every layer (see :func:`attach_claims`).
    """
    file = str(path)
    try:
        table = read_attribute_table(path, report=report)
    except LoadError as exc:
        report.error(exc.path, "", "", exc.code, exc.expected, exc.found,
                     "cannot read the file" + (f"; {exc.hint}" if exc.hint else ""))
        return Claims()
    missing = [c for c in CLAIM_COLUMNS if c not in table.columns]
    if missing:
        report.error(file, "", ";".join(missing), "missing-column",
                     f"columns {', '.join(CLAIM_COLUMNS)}", f"{missing} missing",
                     "claims table lacks columns")
        return Claims()
    layer_of = {str(fid): inp.layer for inp in inputs.values() for fid in inp.attributes["id"]}
    kept: list[Claim] = []
    seen: set[tuple[str, str, str, str]] = set()
    for number, row in enumerate(table.to_dict("records"), start=2):
        cells = {c: str(row.get(c, "") or "").strip() for c in CLAIM_COLUMNS}
        claim = _check_row(cells, number, layer_of, sources, file, report, complete=complete)
        if claim is None:
            continue
        key = (claim.id, claim.field, claim.text, claim.source)
        if key in seen:
            report.warning(file, claim.id, claim.field, "claim-duplicate",
                           "each value of each source once", f"{claim.text!r} again",
                           f"claim on line {number} repeats an earlier one")
            continue
        seen.add(key)
        kept.append(claim)
    return Claims(kept)


def _check_row(
    cells: dict[str, str],
    number: int,
    layer_of: dict[str, Layer],
    sources: pd.DataFrame,
    file: str,
    report: Report,
    *,
    complete: bool,
) -> Claim | None:
    """Check one row of ``claims.csv``; return the claim, or ``None`` after reporting why not."""
    fid, name = cells["id"], cells["field"]
    where = f"claim on line {number}"
    layer = layer_of.get(fid)
    if layer is None:
        if complete:
            report.error(file, fid or f"line {number}", name, "claim-id",
                         "the id of a feature in geodata", repr(fid),
                         f"{where} names a feature that does not exist")
        return None
    field = next((f for f in layer.all_fields if f.name == name), None)
    if field is None or not field.factual:
        factual = ", ".join(f.name for f in layer.all_fields if f.factual)
        report.error(file, fid, name, "claim-field",
                     f"a factual field of layer {layer.name} ({factual})", repr(name),
                     f"{where} names a field that is not a factual field of {fid}")
        return None
    ok = True
    source = cells["source"]
    if source not in sources.index:
        report.error(file, fid, name, "claim-source", "an id of sources.csv", repr(source),
                     f"{where} cites a source that does not exist")
        ok = False
    expected, value = _parse(field, cells["value"])
    if value is None:
        report.error(file, fid, name, "claim-type", expected, repr(cells["value"]),
                     f"{where} has a value of the wrong type")
        ok = False
    as_of = _year(cells["as_of"])
    if cells["as_of"] and as_of is None:
        lo, hi = settings.YEAR_RANGE
        report.error(file, fid, name, "claim-as-of", f"a year {lo}..{hi} or nothing",
                     repr(cells["as_of"]), f"{where} is dated with something that is not a year")
        ok = False
    unit = cells["unit"]
    fixed = FIELD_UNITS.get(name)
    if unit and (field.kind not in _NUMERIC or (fixed is not None and unit != fixed)):
        allowed = f"{fixed!r} or nothing" if fixed else \
            "nothing (the field has no unit)" if field.kind not in _NUMERIC else "any unit"
        report.error(file, fid, name, "claim-unit", allowed, repr(unit),
                     f"{where} gives a unit the field cannot have")
        ok = False
    if not ok or value is None:
        return None
    return Claim(layer.name, fid, name, value, cells["value"], unit, as_of, source,
                 cells["note"])


def _year(text: str) -> int | None:
    lo, hi = settings.YEAR_RANGE
    if re.fullmatch(r"\d{4}", text) and lo <= int(text) <= hi:
        return int(text)
    return None


def _parse(field: Field, text: str) -> tuple[str, int | float | str | None]:
    """Return what the field expects and the value parsed to its type (``None``: it is not)."""
    if field.kind == "int":
        lo, hi = settings.YEAR_RANGE
        is_year = field.name.endswith("year")
        expected = f"an integer year {lo}..{hi}" if is_year else "an integer"
        if not re.fullmatch(r"-?\d+", text) or (is_year and not lo <= int(text) <= hi):
            return expected, None
        return expected, int(text)
    if field.kind == "float":
        expected = "a finite number >= 0"
        try:
            number = float(text)
        except ValueError:
            return expected, None
        if not math.isfinite(number) or number < 0 or text.lower() in ("nan", "inf"):
            return expected, None
        return expected, number
    items = [v.strip() for v in text.split(";") if v.strip()] if field.kind.endswith("list") \
        else ([text] if text else [])
    if field.kind in ("choice", "choice_list"):
        expected = ("one of " if field.kind == "choice" else "';'-separated values among ") \
            + ", ".join(field.choices)
        ok = bool(items) and all(v in field.choices for v in items) and (
            field.kind == "choice_list" or len(items) == 1)
    elif field.kind in ("iso3", "iso3_list"):
        expected = "ISO 3166-1 alpha-3 codes separated by ';'"
        ok = bool(items) and all(pycountry.countries.get(alpha_3=v) is not None
                                 and v.isupper() for v in items)
    else:
        expected = "a non-empty text"
        ok = bool(items)
    return expected, ("; ".join(items) if ok else None)


def claim_text(claim: Claim, record: dict[str, Any] | None = None) -> str:
    """Return a claim's value as a reader sees it, with its unit: ``US$8 bn``, ``532 km``.

    Parameters
    ----------
    claim
        The claim.
    record
        The feature's record, for the unit of a capacity claim that gives none.
    """
    value = claim.value
    if claim.field == "cost_usd_m" and isinstance(value, float | int):
        return f"US${value / 1000:g} bn" if value >= 1000 else f"US${value:g} m"
    if isinstance(value, float) and not claim.field.endswith("year"):
        text = f"{value:,.0f}" if value.is_integer() else f"{value:,}"
    else:
        text = str(value)
    unit = claim.unit or FIELD_UNITS.get(claim.field, "")
    if not unit and claim.field == "capacity" and record:
        unit = str(record.get("capacity_unit") or "")
    return f"{text} {unit}".strip()
