"""Reading geodata strictly: UTF-8 JSON and CSV, with the ceilings of :mod:`ccamap.settings`."""

from __future__ import annotations

import csv
import gc
import io as _io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ccamap import rules, settings
from ccamap.coords import PackedLines, pack_lines
from ccamap.errors import LoadError
from ccamap.report import Report

__all__ = ["read_attribute_table", "read_feature_collection", "read_json"]

_BOM = b"\xef\xbb\xbf"


def _decode_utf8(path: Path, data: bytes, report: Report | None) -> str:
    """Decode ``data`` as UTF-8, accepting (and reporting) a byte-order mark."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
        if report is not None:
            report.add(rules.UTF8_BOM, file=path, expected="UTF-8 without BOM", found="a UTF-8 BOM",
                       message="byte-order mark ignored")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode("utf-8", errors="replace")
        line = text.count("\n") + 1
        column = exc.start - (text.rfind("\n") + 1 if "\n" in text else 0) + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        raise LoadError(str(path), "UTF-8 text", f"byte(s) {bad} that are not UTF-8",
                        line=line, column=column, code="encoding",
                        hint="save the file as UTF-8, not GBK, CP1251 or Latin-1") from None


def _over_limit(path: Path, what: str, setting: str, found: int, *, line: int | None = None,
                column: int | None = None) -> LoadError:
    """Return the error for an input over one of the ceilings in :mod:`ccamap.settings`."""
    limit = getattr(settings, setting)
    return LoadError(str(path), f"at most {limit:,} {what} (limit ccamap.settings.{setting})",
                     f"{found:,}", line=line, column=column, code="limit",
                     hint=f"raise ccamap.settings.{setting} if this input is genuine")


def _read_text(path: Path, report: Report | None) -> str:
    """Read a file as strict UTF-8 text (a BOM is skipped and reported)."""
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(path.parent.resolve()):
            raise LoadError(str(path), "a file inside its directory (or a link to one)",
                            "a symbolic link to a file outside it", code="outside-link",
                            hint="copy the file in; a link could make ccamap print a file "
                                 "from elsewhere on the machine in its messages")
    try:
        size = path.stat().st_size
        if size > settings.MAX_FILE_BYTES:
            raise _over_limit(path, "bytes in a file", "MAX_FILE_BYTES", size)
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(str(path), "a readable file", str(exc.strerror), code="unreadable") \
            from None
    return _decode_utf8(path, data, report)


def _reject_constant(name: str) -> Any:
    msg = f"expected a JSON number, found the non-standard literal {name}"
    raise ValueError(msg)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            msg = f"expected unique keys in a JSON object, found {key!r} twice"
            raise ValueError(msg)
        out[key] = value
    return out


#: Distinct texts remembered at most while a file is read compactly (then the memory restarts).
_SHARED_TEXTS = 100_000


def _compact_objects() -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """Return an object hook that parses GeoJSON compactly, for :func:`read_feature_collection`.

    Each object is checked for duplicate keys as always; then a LineString's or
    MultiLineString's clean coordinates become :class:`~ccamap.coords.PackedLines` (so the
    lists of positions of one geometry are alive only while it is parsed), and the repeated
    texts of a list of strings (``coordinate_sources`` naming one source per vertex, unnamed
    waypoints) become one string object each, with the same value.
    """
    shared: dict[str, str] = {}

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _no_duplicate_keys(pairs)
        gtype = obj.get("type")
        if gtype == "LineString" or gtype == "MultiLineString":
            packed = pack_lines(obj.get("coordinates"), gtype)
            if packed is not None:
                obj["coordinates"] = packed
        for key, value in pairs:
            if (type(value) is list and len(value) > 1 and type(value[0]) is str
                    and set(map(type, value)) == {str}):
                if len(shared) > _SHARED_TEXTS:
                    shared.clear()
                obj[key] = list(map(shared.setdefault, value, value))
        return obj

    return hook


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large document is parsed.

    A GeoJSON file of millions of vertices creates millions of small lists; each allocation
    batch would make the collector walk every container made so far (the parse creates no
    cycles to collect). Pausing it halves the time of ``json.loads`` on a 100 MB file.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_json(path: str | os.PathLike[str], *, report: Report | None = None) -> Any:
    """Read a strict JSON file: UTF-8, no duplicate keys, no NaN or Infinity.

    Parameters
    ----------
    path
        The file.
    report
        Where to record repairs (a BOM that was skipped).

    Raises
    ------
    LoadError
        With the line and column of the first problem.
    """
    return _read_json(Path(path), report, _no_duplicate_keys)


def _read_json(path: Path, report: Report | None,
               hook: Callable[[list[tuple[str, Any]]], dict[str, Any]]) -> Any:
    """Read a strict JSON file with ``hook`` building each object (see :func:`read_json`)."""
    text = _read_text(path, report)
    try:
        with gc_paused():
            doc = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise LoadError(str(path), "valid JSON", exc.msg, line=exc.lineno, column=exc.colno,
                        code="json-syntax") from None
    except RecursionError:
        raise _over_limit(path, "levels of nested arrays and objects", "MAX_NESTING",
                          _nesting_depth(text)) from None
    except ValueError as exc:
        line, column = _locate(text, str(exc))
        expected, _, found = str(exc).removeprefix("expected ").partition(", found ")
        code = "json-duplicate-key" if "twice" in found else "json-constant"
        raise LoadError(str(path), expected, found, line=line, column=column,
                        code=code) from None
    if _SURROGATE_ESCAPE.search(text):  # rare: only then look at every string
        _check_surrogates(path, text, doc)
    return doc


#: A ``\uD800``–``\uDFFF`` escape: half of a UTF-16 pair, text only when paired.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_surrogates(path: Path, text: str, doc: Any) -> None:
    """Refuse a string holding a lone surrogate: it is no character and cannot be written."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                escape = f"\\u{ord(item[exc.start]):04x}"
                idx = text.lower().find(escape)
                line = text.count("\n", 0, idx) + 1 if idx >= 0 else None
                column = idx - text.rfind("\n", 0, idx) if idx >= 0 else None
                raise LoadError(str(path), "text of Unicode characters",
                                f"the lone surrogate escape {escape} in {item[:40]!r}",
                                line=line, column=column, code="json-surrogate",
                                hint="a \\uD800-\\uDFFF escape must be half of a pair") from None


def _nesting_depth(text: str) -> int:
    """Return the deepest bracket nesting of a JSON text (strings skipped), for messages."""
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        char = token.group()
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, counted up to ``limit + 1`` at most."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, PackedLines):  # as its lists would count, one level at a time
            deepest = max(deepest, min(level + item.depth, limit + 1))
            if deepest > limit:
                return deepest
        elif isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            if _CONTAINERS.isdisjoint(map(type, children)):
                continue  # only leaves below (the common list of names): nothing to walk
            stack.extend((v, level) for v in children)
    return deepest


_CONTAINERS = frozenset({dict, list, PackedLines})


def _positions(coords: Any) -> int:
    """How many positions a GeoJSON ``coordinates`` member holds (0 if it is malformed)."""
    if isinstance(coords, PackedLines):
        return coords.positions
    if not isinstance(coords, list) or not coords:
        return 0
    if not isinstance(coords[0], list):
        return 1
    if not coords[0] or not isinstance(coords[0][0], list):
        return len(coords)
    return sum(_positions(part) for part in coords)


def _check_feature_limits(path: Path, features: list[Any]) -> None:
    """Refuse a feature list over the ceilings of :mod:`ccamap.settings` before any other work."""
    if len(features) > settings.MAX_FEATURES:
        raise _over_limit(path, "features in a file", "MAX_FEATURES", len(features))
    for index, feat in enumerate(features):
        if not isinstance(feat, dict):
            continue
        props = feat.get("properties")
        fid = props.get("id") if isinstance(props, dict) else None
        where = f"feature {index}" + (f" (id {fid!r})" if isinstance(fid, str) else "")
        geometry = feat.get("geometry")
        if isinstance(geometry, dict):
            count = _positions(geometry.get("coordinates"))
            if geometry.get("type") == "GeometryCollection":
                count = sum(_positions(g.get("coordinates")) for g in
                            geometry.get("geometries") or [] if isinstance(g, dict))
            if count > settings.MAX_VERTICES:
                raise _over_limit(path, f"vertices in one feature, {where}", "MAX_VERTICES",
                                  count)
        if not isinstance(props, dict):
            continue
        depth = _depth(props, settings.MAX_NESTING)
        if depth > settings.MAX_NESTING:
            raise _over_limit(path, f"levels of nesting in the properties of {where}",
                              "MAX_NESTING", depth)
        for key, value in props.items():
            if (isinstance(value, list) and set(map(type, value)) <= {str}
                    and max(map(len, value), default=0) <= settings.MAX_FIELD_CHARS):
                continue  # a list of short strings, checked without a Python loop
            for text in (value if isinstance(value, list) else [value, key]):
                if isinstance(text, str) and len(text) > settings.MAX_FIELD_CHARS:
                    raise _over_limit(path, f"characters in property {key[:40]!r} of {where}",
                                      "MAX_FIELD_CHARS", len(text))


def _locate(text: str, message: str) -> tuple[int | None, int | None]:
    """Best-effort position of the token a ValueError message quotes."""
    for token in ("NaN", "-Infinity", "Infinity"):
        if message.endswith(token):
            idx = _find_bare(text, token)
            break
    else:
        start = message.find("'")
        end = message.find("'", start + 1)
        idx = text.rfind(json.dumps(message[start + 1 : end])) if start >= 0 else -1
    if idx < 0:
        return None, None
    line = text.count("\n", 0, idx) + 1
    return line, idx - (text.rfind("\n", 0, idx) + 1) + 1


def _find_bare(text: str, token: str) -> int:
    """Index of ``token`` outside of JSON strings, or -1."""
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith(token, i):
            return i
    return -1


def read_feature_collection(
    path: str | os.PathLike[str], *, report: Report | None = None, compact: bool = False
) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection, checking its outer structure.

    Parameters
    ----------
    path
        The file.
    report
        Where to record repairs (a BOM that was skipped).
    compact
        Hand each clean line's coordinates over as :class:`~ccamap.coords.PackedLines` (its
        geometry, built as it is parsed) and share repeated texts in lists of strings: the
        document of 10,000 synthetic lines holds 0.13 GB instead of 0.88 GB. For readers that
        check and build geometries, not for those that write the document back.

    Raises
    ------
    LoadError
        If the file is not JSON or not a FeatureCollection with a ``features`` array.
    """
    doc = _read_json(Path(path), report, _compact_objects() if compact else _no_duplicate_keys)
    if not isinstance(doc, dict):
        raise LoadError(str(path), "a GeoJSON FeatureCollection object",
                        f"a JSON {_json_type(doc)}", code="geojson-type")
    kind = doc.get("type")
    if kind != "FeatureCollection":
        hint = ""
        if isinstance(kind, str) and kind.lower() == "featurecollection":
            hint = "GeoJSON type names are case-sensitive"
        elif kind == "Feature":
            hint = "wrap the Feature in a FeatureCollection"
        raise LoadError(str(path), "type 'FeatureCollection'", repr(kind), hint=hint,
                        code="geojson-type")
    if not isinstance(doc.get("features"), list):
        raise LoadError(str(path), "a 'features' array", _json_type(doc.get("features")),
                        code="geojson-type")
    _check_feature_limits(Path(path), doc["features"])
    return doc


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def read_attribute_table(
    path: str | os.PathLike[str], *, report: Report | None = None
) -> pd.DataFrame:
    """Read an attribute table as text, exactly as written.

    Every cell stays a string: ``NA`` stays Namibia's code, ``007`` keeps its zeros, and an empty
    cell is the empty string. Types are checked and parsed by validation.

    Raises
    ------
    LoadError
        If the file is not UTF-8 CSV with a header row and rows of the header's width.
    """
    path = Path(path)
    text = _read_text(path, report)
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    previous = csv.field_size_limit(settings.MAX_FIELD_CHARS)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) == 1 and len(row) > settings.MAX_COLUMNS:
                raise _over_limit(path, "columns in a table", "MAX_COLUMNS", len(row), line=1)
            if len(rows) > settings.MAX_FEATURES + 1:
                raise _over_limit(path, "rows in a table", "MAX_FEATURES", len(rows) - 1)
    except csv.Error as exc:
        if "field limit" in str(exc):
            longest = max((len(c) for c in _row_at(text, reader.line_num)), default=0)
            raise _over_limit(path, "characters in one cell", "MAX_FIELD_CHARS", longest,
                              line=reader.line_num) from None
        raise LoadError(str(path), "well-formed CSV", str(exc), line=reader.line_num,
                        column=1, code="csv-row") from None
    finally:
        csv.field_size_limit(previous)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise LoadError(str(path), "a header row", "an empty file", code="csv-header")
    header = rows[0]
    body: list[list[str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise LoadError(str(path), f"{len(header)} fields as in the header", str(len(row)),
                            line=number, column=1, code="csv-row")
        body.append(row)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise LoadError(str(path), "unique column names", f"{dupes} repeated", line=1,
                        column=1, code="csv-header")
    return pd.DataFrame(body, columns=header, dtype=object)


def _row_at(text: str, line: int) -> list[str]:
    """Return the cells of the CSV record ending at ``line`` (no field limit; for messages)."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        reader = csv.reader(_io.StringIO(text, newline=""))
        for row in reader:
            if reader.line_num >= line:
                return row
        return []
    finally:
        csv.field_size_limit(previous)
