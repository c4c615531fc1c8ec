"""Reading geodata strictly and writing outputs atomically."""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ccamap.errors import LoadError
from ccamap.report import Report

__all__ = [
    "atomic_write",
    "read_attribute_table",
    "read_feature_collection",
    "read_json",
    "temp_path",
    "text_writer",
    "write_files_atomic",
    "write_text_atomic",
]

_BOM = b"\xef\xbb\xbf"


def _decode_utf8(path: Path, data: bytes, report: Report | None) -> str:
    """Decode ``data`` as UTF-8, accepting (and reporting) a byte-order mark."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
        if report is not None:
            report.warning(path, "", "", "utf8-bom", "UTF-8 without BOM", "a UTF-8 BOM",
                           "byte-order mark ignored")
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


def _read_text(path: Path, report: Report | None) -> str:
    """Read a file as strict UTF-8 text (a BOM is skipped and reported)."""
    try:
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
    path = Path(path)
    text = _read_text(path, report)
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise LoadError(str(path), "valid JSON", exc.msg, line=exc.lineno, column=exc.colno,
                        code="json-syntax") from None
    except ValueError as exc:
        line, column = _locate(text, str(exc))
        expected, _, found = str(exc).removeprefix("expected ").partition(", found ")
        code = "json-duplicate-key" if "twice" in found else "json-constant"
        raise LoadError(str(path), expected, found, line=line, column=column,
                        code=code) from None


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
    path: str | os.PathLike[str], *, report: Report | None = None
) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection, checking its outer structure.

    Raises
    ------
    LoadError
        If the file is not JSON or not a FeatureCollection with a ``features`` array.
    """
    doc = read_json(path, report=report)
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
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise LoadError(str(path), "well-formed CSV", str(exc), line=reader.line_num,
                        column=1, code="csv-row") from None
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


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; move it into place only if the block succeeds.

    The temporary file is flushed and synced before the rename, so ``path`` holds either the
    old content or the complete new content, never a partial write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_path(target: Path) -> Path:
    """Return a fresh temporary path beside ``target``, keeping its suffix (GDAL checks it)."""
    return target.with_name(f".{target.stem}.{secrets.token_hex(6)}.tmp{target.suffix}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def text_writer(text: str) -> Callable[[Path], None]:
    """Return a writer for :func:`write_files_atomic` that writes ``text`` as UTF-8."""
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8", newline="")

    return write


def write_files_atomic(writers: Mapping[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files so that they change together, or not at all.

    Each writer writes its file's complete content to a temporary path beside the target; the
    temporary files are synced, and only when every one is complete are they all moved into
    place. On any failure the temporary files (and SQLite side files) are removed and every
    target keeps its previous content.

    Parameters
    ----------
    writers
        For each target path, a function that writes the content to the path it is given.

    Returns
    -------
    list of Path
        The targets, in order.
    """
    staged: dict[Path, Path] = {}
    try:
        for target, write in writers.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_path(target)
            staged[target] = tmp
            write(tmp)
            _fsync(tmp)
        for target, tmp in staged.items():
            os.replace(tmp, target)
    except BaseException:
        for tmp in staged.values():
            for leftover in (tmp, *(tmp.with_name(tmp.name + s)
                                    for s in ("-wal", "-shm", "-journal"))):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        raise
    return list(staged)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path) as fh:
        fh.write(text)
