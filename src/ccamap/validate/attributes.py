"""Checks of attribute tables: columns, then every value of every column against its field.

Each field's checks run over the whole column at once (pandas string methods, ``isin``); one
problem is written per failing cell, and failing cells are left empty in the parsed table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pycountry

from ccamap import rules, settings
from ccamap.layers import Field, Layer
from ccamap.report import Report
from ccamap.safety import reserved_column
from ccamap.validate.inputs import ID_PATTERN, RESERVED_EXPECTED, split_list

__all__ = ["check_attributes"]

#: A column check: the rule, what was expected, and a function from the column's values
#: (strings) to a boolean array that is ``True`` where a value passes.
_Check = tuple[rules.Rule, str, Callable[[list[str]], npt.NDArray[np.bool_]]]


def check_attributes(
    table: pd.DataFrame, layer: Layer, file: str, report: Report
) -> pd.DataFrame:
    """Check an attribute table against the layer's schema and parse it to typed values.

    Parameters
    ----------
    table
        The table as read (every cell a string).
    layer
        The layer it belongs to.
    file
        The file name used in problems.
    report
        Where problems are recorded.

    Returns
    -------
    pandas.DataFrame
        The rows with a usable id, parsed: ints and floats as numbers, lists as lists, empty
        cells as ``None``. Cells that failed a check are ``None``.
    """
    expected = layer.columns
    lower = {c.lower(): c for c in expected}
    reserved = [c for c in table.columns if c not in expected and reserved_column(str(c))]
    for col in reserved:
        report.add(rules.RESERVED_COLUMN, file=file, field=col, expected=RESERVED_EXPECTED,
                   found=repr(col),
                   message="column name is reserved by ccamap: rename the column")
    table = table.drop(columns=reserved)
    columns = list(table.columns)
    for col in columns:
        if col not in expected:
            if col.lower() in lower:
                report.add(rules.COLUMN_CASE, file=file, field=col,
                           expected=repr(lower[col.lower()]), found=repr(col),
                           message="column name differs from the schema only by case")
            else:
                report.add(rules.UNKNOWN_COLUMN, file=file, field=col,
                           expected="a column of the schema", found=repr(col),
                           message="column not in the layer schema (kept)")
    if "id" not in columns:
        report.add(rules.MISSING_KEY_COLUMN, file=file, field="id", expected="an 'id' column",
                   found=f"columns {columns}", message="attribute table has no key column")
        return pd.DataFrame(columns=expected)
    for f in layer.all_fields:
        if f.name not in columns and f.required:
            report.add(rules.MISSING_COLUMN, file=file, field=f.name,
                       expected=f"a {f.name!r} column", found="none",
                       message="required column missing")
    cells = {str(col): [v if isinstance(v, str) else str(v) for v in table[col].tolist()]
             for col in columns}
    bad = _check_values(cells, layer, file, report)
    typed = _parse(cells, layer, bad)
    ids = cells["id"]
    keep = np.fromiter((bool(v.strip()) for v in ids), dtype=bool, count=len(ids))
    keep &= ~pd.Series(ids, dtype=object).duplicated().to_numpy()
    return typed[keep].reset_index(drop=True)


def _iso3_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries)


def _is_nonneg_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and number >= 0 and value.strip().lower() not in ("nan", "inf")


_INTEGER = re.compile(r"-?\d+")


def _is_int(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None


def _mask(passes: Callable[[str], bool]) -> Callable[[list[str]], npt.NDArray[np.bool_]]:
    """Turn a test of one value into a test of a whole column."""
    return lambda values: np.fromiter(map(passes, values), dtype=bool, count=len(values))


def _members(allowed: frozenset[str] | tuple[str, ...], many: bool,
             ) -> Callable[[list[str]], npt.NDArray[np.bool_]]:
    """Return a check that every value (every ``;``-separated item if ``many``) is allowed."""
    members = frozenset(allowed)
    if not many:
        return _mask(members.__contains__)
    return _mask(lambda v: all(x in members for x in split_list(v)))


def _checks(f: Field) -> list[_Check]:
    """Return the checks of one field, in the order they report (empty cells pass them)."""
    checks: list[_Check] = []
    if f.name == "id":
        checks.append((rules.ID_FORMAT, "a lowercase slug like 'rail-cku'",
                       _mask(lambda v: ID_PATTERN.match(v) is not None)))
    if f.kind == "int":
        lo, hi = settings.YEAR_RANGE
        checks.append((rules.NOT_INTEGER, "an integer", _mask(_is_int)))
        if f.name.endswith("year"):
            checks.append((rules.YEAR_RANGE, f"a year {lo}..{hi}",
                           _mask(lambda v: not _is_int(v) or lo <= int(v) <= hi)))
    elif f.kind == "float":
        checks.append((rules.NOT_NUMBER, "a finite number >= 0", _mask(_is_nonneg_number)))
    elif f.kind in ("choice", "choice_list"):
        rule = rules.STATUS_VOCABULARY if f.name == "status" else rules.VOCABULARY
        checks.append((rule, "one of " + ", ".join(f.choices),
                       _members(f.choices, f.kind == "choice_list")))
    elif f.kind in ("iso3", "iso3_list"):
        checks.append((rules.ISO3, "ISO 3166-1 alpha-3 codes separated by ';'",
                       _members(_iso3_codes(), f.kind == "iso3_list")))
    return checks


def _check_values(cells: dict[str, list[str]], layer: Layer, file: str,
                  report: Report) -> dict[str, npt.NDArray[np.bool_]]:
    """Check every value of every known column; return, per column, where a value failed."""
    ids = cells["id"]
    bad: dict[str, npt.NDArray[np.bool_]] = {}
    for f in layer.all_fields:
        if f.name not in cells:
            continue
        values = cells[f.name]
        empty = np.fromiter((v == "" for v in values), dtype=bool, count=len(values))
        failed = np.zeros(len(values), dtype=bool)
        if f.required:
            filled = np.fromiter((bool(v.strip()) for v in values), dtype=bool,
                                 count=len(values))
            failed |= _report(values, filled, rules.REQUIRED, "a value", ids, f.name, file,
                              report)
        for rule, expected, passes in _checks(f):
            failed |= _report(values, empty | passes(values), rule, expected, ids, f.name,
                              file, report)
        if failed.any():
            bad[f.name] = failed
    duplicate = pd.Series(ids, dtype=object).duplicated(keep="first").to_numpy()
    _report(ids, ~duplicate, rules.DUPLICATE_ID, "a unique id", ids, "id", file, report)
    return bad


def _report(values: list[str], passes: npt.NDArray[np.bool_], rule: rules.Rule, expected: str,
            ids: list[str], name: str, file: str, report: Report) -> npt.NDArray[np.bool_]:
    """Record one problem per cell that does not pass; return where they are."""
    failed = ~passes
    for i in np.flatnonzero(failed).tolist():
        report.add(rule, file=file, feature_id=ids[i], field=name, expected=expected,
                   found=repr(values[i]), message=f"bad value in column {name!r}")
    return failed


def _parse(cells: dict[str, list[str]], layer: Layer,
           bad: dict[str, npt.NDArray[np.bool_]]) -> pd.DataFrame:
    """Parse every column to its field's type; empty and failing cells become ``None``."""
    fields = {f.name: f for f in layer.all_fields}
    typed: dict[str, list[Any]] = {}
    for name, raw in cells.items():
        if name == "id":
            typed["id"] = list(raw)
            continue
        f = fields.get(name)
        kind = "text" if f is None else f.kind
        parse: Callable[[str], Any]
        if kind in ("text", "choice", "iso3"):
            parse = str
        elif kind == "int":
            parse = int
        elif kind == "float":
            parse = float
        else:
            parse = split_list
        failed = bad[name].tolist() if name in bad else [False] * len(raw)
        texts = [v.strip() for v in raw]
        typed[name] = [None if not text or gone else parse(text)
                       for text, gone in zip(texts, failed, strict=True)]
    return pd.DataFrame(typed, columns=list(cells), dtype=object)
