"""Checks of ``claims.csv``: each contested figure names a feature, a field and a source.

The claims model (:class:`~ccamap.claims.Claim`, :class:`~ccamap.claims.Claims`) lives in
:mod:`ccamap.claims`; this module reads and checks the table and attaches the claims that pass.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pycountry

from ccamap import rules, settings
from ccamap.claims import CLAIM_COLUMNS, CLAIMS_FILE, FIELD_UNITS, Claim, Claims
from ccamap.errors import LoadError
from ccamap.layers import Field, Layer
from ccamap.readers import read_attribute_table
from ccamap.report import Report
from ccamap.validate.inputs import LayerInput

__all__ = ["attach_claims", "check_claims"]

_NUMERIC = ("int", "float")


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
        report.add(rules.rule(exc.code), file=exc.path, expected=exc.expected, found=exc.found,
                   message="cannot read the file" + (f"; {exc.hint}" if exc.hint else ""))
        return Claims()
    missing = [c for c in CLAIM_COLUMNS if c not in table.columns]
    if missing:
        report.add(rules.MISSING_COLUMN, file=file, field=";".join(missing),
                   expected=f"columns {', '.join(CLAIM_COLUMNS)}", found=f"{missing} missing",
                   message="claims table lacks columns")
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
            report.add(rules.CLAIM_DUPLICATE, file=file, feature_id=claim.id, field=claim.field,
                       expected="each value of each source once", found=f"{claim.text!r} again",
                       message=f"claim on line {number} repeats an earlier one")
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
            report.add(rules.CLAIM_ID, file=file, feature_id=fid or f"line {number}", field=name,
                       expected="the id of a feature in geodata", found=repr(fid),
                       message=f"{where} names a feature that does not exist")
        return None
    field = next((f for f in layer.all_fields if f.name == name), None)
    if field is None or not field.factual:
        factual = ", ".join(f.name for f in layer.all_fields if f.factual)
        report.add(rules.CLAIM_FIELD, file=file, feature_id=fid, field=name,
                   expected=f"a factual field of layer {layer.name} ({factual})", found=repr(name),
                   message=f"{where} names a field that is not a factual field of {fid}")
        return None
    ok = True
    source = cells["source"]
    if source not in sources.index:
        report.add(rules.CLAIM_SOURCE, file=file, feature_id=fid, field=name,
                   expected="an id of sources.csv", found=repr(source),
                   message=f"{where} cites a source that does not exist")
        ok = False
    expected, value = _parse(field, cells["value"])
    if value is None:
        report.add(rules.CLAIM_TYPE, file=file, feature_id=fid, field=name, expected=expected,
                   found=repr(cells["value"]), message=f"{where} has a value of the wrong type")
        ok = False
    as_of = _year(cells["as_of"])
    if cells["as_of"] and as_of is None:
        lo, hi = settings.YEAR_RANGE
        report.add(rules.CLAIM_AS_OF, file=file, feature_id=fid, field=name,
                   expected=f"a year {lo}..{hi} or nothing", found=repr(cells["as_of"]),
                   message=f"{where} is dated with something that is not a year")
        ok = False
    unit = cells["unit"]
    fixed = FIELD_UNITS.get(name)
    if unit and (field.kind not in _NUMERIC or (fixed is not None and unit != fixed)):
        allowed = f"{fixed!r} or nothing" if fixed else \
            "nothing (the field has no unit)" if field.kind not in _NUMERIC else "any unit"
        report.add(rules.CLAIM_UNIT, file=file, feature_id=fid, field=name, expected=allowed,
                   found=repr(unit), message=f"{where} gives a unit the field cannot have")
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
