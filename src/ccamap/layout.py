"""Writing JSON and CSV back in the layout of the file they replace (``ccamap validate --fix``)."""

from __future__ import annotations

import csv
import io as _io
import json
from typing import Any

__all__ = ["csv_rows", "dump_csv_like", "dump_json_like"]



def dump_json_like(original: str, doc: Any) -> str:
    """Serialise ``doc`` in the layout of ``original`` (indentation, escaping, final newline).

    The layout is the first of the usual ``json.dumps`` styles that reproduces ``original``
    exactly from its own parsed content; if none does, one-space indentation (the layout of
    the bundled data) is used.
    """
    body = original.removeprefix("\ufeff")
    trail = "\n" if body.endswith("\n") else ""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    styles: list[dict[str, Any]] = [
        {"indent": indent, "ensure_ascii": ascii_only}
        for indent in (1, 2, 4, "\t", None) for ascii_only in (False, True)
    ] + [{"indent": None, "ensure_ascii": a, "separators": (",", ":")} for a in (False, True)]
    for style in styles:
        if parsed is not None and json.dumps(parsed, **style) + trail == body:
            return json.dumps(doc, **style) + trail
    return json.dumps(doc, indent=1, ensure_ascii=False) + trail


def dump_csv_like(original: str, rows: list[list[str]]) -> str:
    """Write ``rows`` as CSV with the line ending and quoting of ``original``."""
    body = original.removeprefix("\ufeff")
    ending = "\r\n" if "\r\n" in body else "\n"
    trail = body.endswith(("\n", "\r"))
    for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC):
        if _csv_text(csv_rows(body), ending, quoting, trail) == body:
            return _csv_text(rows, ending, quoting, trail)
    return _csv_text(rows, ending, csv.QUOTE_MINIMAL, trail=True)


def csv_rows(text: str) -> list[list[str]]:
    """Return the rows of a CSV text (strict parsing)."""
    return list(csv.reader(_io.StringIO(text, newline=""), strict=True))


def _csv_text(rows: list[list[str]], ending: str, quoting: int, trail: bool) -> str:
    buf = _io.StringIO()
    csv.writer(buf, lineterminator=ending, quoting=quoting).writerows(rows)  # type: ignore[arg-type]
    text = buf.getvalue()
    return text if trail else text.removesuffix(ending)
