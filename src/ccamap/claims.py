"""Contested figures: the other values sources give for a feature's field (``claims.csv``).

An attribute table keeps, per field, the value judged best supported. ``geodata/claims.csv``
records every alternative a source gives, one row per value and source::

    id,field,value,unit,as_of,source,note
    rail-cku,cost_usd_m,8000,USD m,2024,24kg-2024-cku-8bn,preliminary estimate for the project

Validation (:func:`ccamap.validate.claims.check_claims`, called by
:func:`ccamap.validate.validate`) checks that each
row names a known feature, a factual field of that feature's layer, a source of ``sources.csv``,
a value of the field's type and, if given, a year and a unit that fits the field. The checked
claims travel with the sources table (``sources.attrs["claims"]``, read with
:func:`claims_of`): cards list them under their field and every export carries them as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "CLAIMS_FILE",
    "CLAIM_COLUMNS",
    "EXPORT_COLUMNS",
    "FIELD_UNITS",
    "Claim",
    "Claims",
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
