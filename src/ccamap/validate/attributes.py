"""Checks of attribute tables: columns, then every value of every column against its field.

Each field's checks run over the whole column at once (pandas string methods, ``isin``); one
problem is written per failing cell, and failing cells are left empty in the parsed table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pycountry

from ccamap import rules, settings
from ccamap.layers import Field, Layer
from ccamap.report import Report
from ccamap.safety import reserved_column
from ccamap.validate.inputs import ID_PATTERN, RESERVED_EXPECTED, split_list

__all__ = ["check_attributes"]

#: A column check: the rule, what was expected, and a function from the column (strings) to
#: a boolean Series that is ``True`` where a value passes.
_Check = tuple[rules.Rule, str, Callable[[pd.Series], pd.Series]]


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
    table = table.astype(object).map(lambda v: v if isinstance(v, str) else str(v))
    bad = _check_values(table, layer, file, report)
    typed = _parse(table, layer, bad)
    keep = (table["id"].str.strip() != "") & ~table["id"].duplicated()
    return typed[keep.to_numpy()].reset_index(drop=True)


def _iso3_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries)


def _is_nonneg_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and number >= 0 and value.strip().lower() not in ("nan", "inf")


def _members(allowed: frozenset[str] | tuple[str, ...], many: bool) -> Callable[[pd.Series],
                                                                              pd.Series]:
    """Return a check that every value (every ``;``-separated item if ``many``) is allowed."""
    if not many:
        return lambda s: s.isin(allowed)
    return lambda s: s.map(lambda v: all(x in allowed for x in split_list(v))).astype(bool)


def _checks(f: Field) -> list[_Check]:
    """Return the checks of one field, in the order they report (empty cells pass them)."""
    checks: list[_Check] = []
    if f.name == "id":
        checks.append((rules.ID_FORMAT, "a lowercase slug like 'rail-cku'",
                       lambda s: s.map(lambda v: ID_PATTERN.match(v) is not None).astype(bool)))
    if f.kind == "int":
        lo, hi = settings.YEAR_RANGE
        checks.append((rules.NOT_INTEGER, "an integer", _is_integer))
        if f.name.endswith("year"):
            checks.append((rules.YEAR_RANGE, f"a year {lo}..{hi}",
                           lambda s: ~_is_integer(s) | s.map(
                               lambda v: _is_int(v) and lo <= int(v) <= hi).astype(bool)))
    elif f.kind == "float":
        checks.append((rules.NOT_NUMBER, "a finite number >= 0",
                       lambda s: s.map(_is_nonneg_number).astype(bool)))
    elif f.kind in ("choice", "choice_list"):
        rule = rules.STATUS_VOCABULARY if f.name == "status" else rules.VOCABULARY
        checks.append((rule, "one of " + ", ".join(f.choices),
                       _members(f.choices, f.kind == "choice_list")))
    elif f.kind in ("iso3", "iso3_list"):
        checks.append((rules.ISO3, "ISO 3166-1 alpha-3 codes separated by ';'",
                       _members(_iso3_codes(), f.kind == "iso3_list")))
    return checks


_INTEGER = re.compile(r"-?\d+")


def _is_int(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None


def _is_integer(s: pd.Series) -> pd.Series:
    return s.map(_is_int).astype(bool)


def _check_values(table: pd.DataFrame, layer: Layer, file: str,
                  report: Report) -> dict[str, pd.Series]:
    """Check every value of every known column; return, per column, where a value failed."""
    ids = table["id"]
    bad: dict[str, pd.Series] = {}
    for f in layer.all_fields:
        if f.name not in table:
            continue
        column = table[f.name]
        empty = column == ""
        failed = pd.Series(False, index=column.index)
        if f.required:
            failed |= _report(column, column.str.strip() != "", rules.REQUIRED, "a value",
                              ids, f.name, file, report)
        for rule, expected, passes in _checks(f):
            failed |= _report(column, empty | passes(column), rule, expected, ids, f.name,
                              file, report)
        if failed.any():
            bad[f.name] = failed
    duplicate = ids.duplicated(keep="first")
    _report(ids, ~duplicate, rules.DUPLICATE_ID, "a unique id", ids, "id", file, report)
    if duplicate.any():
        bad["id"] = bad.get("id", pd.Series(False, index=ids.index)) | duplicate
    return bad


def _report(column: pd.Series, passes: pd.Series, rule: rules.Rule, expected: str,
            ids: pd.Series, name: str, file: str, report: Report) -> pd.Series:
    """Record one problem per cell that does not pass; return where they are."""
    failed = ~passes.astype(bool)
    for fid, value in zip(ids[failed], column[failed], strict=True):
        report.add(rule, file=file, feature_id=fid, field=name, expected=expected,
                   found=repr(value), message=f"bad value in column {name!r}")
    return failed


def _parse(table: pd.DataFrame, layer: Layer, bad: dict[str, pd.Series]) -> pd.DataFrame:
    """Parse every column to its field's type; empty and failing cells become ``None``."""
    fields = {f.name: f for f in layer.all_fields}
    typed = pd.DataFrame(index=table.index)
    for col in table.columns:
        name = str(col)
        raw = table[col]
        if name == "id":
            typed["id"] = raw
            continue
        text = raw.str.strip()
        missing = text == ""
        if name in bad:
            missing |= bad[name]
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
        values = [None if gone else parse(v)
                  for v, gone in zip(text.tolist(), missing.tolist(), strict=True)]
        typed[name] = pd.Series(values, index=text.index, dtype=object)
    return typed
