"""Guards where data or arguments meet the outside: output paths, terminals, files, secrets.

Each function here turns untrusted text or paths into something safe for one sink, or refuses
them with a :class:`~ccamap.errors.CcamapError` that names what was expected and what was found:

=========================  ====================================================================
guard                      sink
=========================  ====================================================================
:func:`check_output_dir`   an output directory: never the data directory or inside it
:func:`check_local_source` a file given to ``ccamap import``: never one that reaches the network
:func:`redact`             any message: passwords in URLs and ``password=`` values hidden
:func:`sanitize_terminal`  the terminal: control characters shown as visible escapes
:func:`xml_text`           XML (KML): characters XML 1.0 cannot hold shown as visible escapes
:func:`neutralise_formula` a CSV cell: text a spreadsheet would run as a formula gets a ``'``
=========================  ====================================================================
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import tarfile
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ccamap.errors import CcamapError, UnsafeOutputError, UnsafeSourceError

__all__ = [
    "FORMULA_PREFIXES",
    "RESERVED_COLUMNS",
    "check_local_source",
    "check_output_dir",
    "neutralise_formula",
    "redact",
    "reserved_column",
    "sanitize_terminal",
    "secrets_in_url",
    "xml_text",
]

# --------------------------------------------------------------------------- output directories


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def check_output_dir(out: Path, geodata: Path, *, replaced_whole: bool = False) -> None:
    """Refuse an output directory that is the data directory or lies inside it.

    Symbolic links are followed on both sides (``maps/export`` may be a link into
    ``geodata/``), and an existing ancestor of ``out`` that is the data directory under another
    name (a bind mount, a case-insensitive file system) counts too. Nothing is created or
    written.

    Parameters
    ----------
    out
        The directory an export or build would write into (it need not exist yet).
    geodata
        The data directory.
    replaced_whole
        ``out`` is replaced as a whole (``ccamap build`` switches the maps directory in one
        step), so a directory that *contains* the data is refused too.

    Raises
    ------
    UnsafeOutputError
        Naming ``out``, the data directory, and the real path ``out`` resolves to.
    """
    out, geodata = Path(out), Path(geodata)
    real_out = Path(os.path.realpath(out))
    real_data = Path(os.path.realpath(geodata))
    hit = real_out == real_data or real_out.is_relative_to(real_data)
    data_inode = _inode(real_data)
    if not hit and data_inode is not None:
        hit = any(_inode(p) == data_inode for p in (real_out, *real_out.parents))
    contains = replaced_whole and not hit and real_data.is_relative_to(real_out)
    if not hit and not contains:
        return
    where = ("contains" if contains else "is"
             if real_out == real_data or _inode(real_out) == data_inode else "lies inside")
    via = f" (it resolves to {real_out})" if real_out != Path(os.path.abspath(out)) else ""
    if replaced_whole:
        msg = (f"{out}: expected a maps directory apart from the data directory {geodata}, "
               f"found one that {where} it{via} (a build replaces its whole output directory)")
    else:
        msg = (f"{out}: expected an output directory outside the data directory {geodata}, "
               f"found one that {where} it{via}; ccamap never writes into the data directory, "
               "choose another --out")
    raise UnsafeOutputError(msg)


# --------------------------------------------------------------------------- secrets

#: ``scheme://user:password@`` (greedy up to the last ``@`` of the token: a password with an
#: unescaped ``@`` or ``/`` is still hidden whole).
_URL_PASSWORD = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<secret>[^\s'\"]*)@")
#: One word of a message (URLs are quoted or end at white space).
_TOKEN = re.compile(r"[^\s'\"]+")
#: ``password=…`` in a query string or a libpq connection string (``sslpassword``, ``pwd``…).
_KEY_PASSWORD = re.compile(
    r"(?i)(?P<head>\b(?:ssl)?(?:password|passwd|pwd|passphrase|secret|token|api_?key)"
    r"\s*=\s*)(?P<secret>'[^']*'|\"[^\"]*\"|[^\s&;'\",)]*)")
_HIDDEN = "***"


def _userinfo(token: str) -> tuple[str, str]:
    """Hide ``…:secret@`` in a word with no ``://`` (a malformed URL); return it and the secret.

    Everything from the first ``:`` to the last ``@`` is hidden: more than the password when
    the word is not a URL at all, never less.
    """
    at = token.rfind("@")
    colon = token.find(":", 0, at)
    if at < 0 or colon < 0 or colon + 1 == at or token[colon + 1:at] == _HIDDEN:
        return token, ""
    return token[:colon + 1] + _HIDDEN + token[at:], token[colon + 1:at]


def secrets_in_url(url: str) -> list[str]:
    """Return the passwords a connection URL holds (``user:password@`` and ``password=``)."""
    found = [m.group("secret") for m in _URL_PASSWORD.finditer(url)]
    found += [_userinfo(m.group())[1] for m in _TOKEN.finditer(url) if "://" not in m.group()]
    found += [m.group("secret").strip("'\"") for m in _KEY_PASSWORD.finditer(url)]
    return [s for s in found if s]


def redact(text: str, *, known: Iterable[str] = ()) -> str:
    """Hide passwords in ``text``: ``scheme://user:***@host`` and ``password=***``.

    Parameters
    ----------
    text
        A message that may quote a URL or a connection string.
    known
        Secrets to hide wherever they appear (as written and percent-decoded), e.g. those of
        :func:`secrets_in_url` for the URL the user gave; ones shorter than 3 characters are
        hidden only where the patterns find them.
    """
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + _HIDDEN + "@", text)
    text = _TOKEN.sub(lambda m: m.group() if "://" in m.group() else _userinfo(m.group())[0],
                      text)
    text = _KEY_PASSWORD.sub(lambda m: m.group("head") + _HIDDEN, text)
    for secret in known:
        for form in {secret, urllib.parse.unquote(secret)}:
            if len(form) >= 3:
                text = text.replace(form, _HIDDEN)
    return text


# --------------------------------------------------------------------------- terminal and XML

#: Characters that can move the cursor, recolour, retitle or reorder a terminal's text: C0
#: controls (a newline, and a carriage return that ends a line, are kept), DEL, C1 controls,
#: the bidirectional overrides and isolates, and the Unicode line and paragraph separators.
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069]|\r(?!\n)")
#: Characters XML 1.0 cannot hold, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize_terminal(text: str) -> str:
    r"""Return ``text`` with every terminal control character as a visible escape (``\x1b``).

    Newlines stay (multi-line output keeps its lines), and so does a carriage return right
    before a newline; every other C0 or C1 control, DEL and the bidirectional controls become
    ``\xNN`` or ``\uNNNN``, so escape sequences in column names or values never reach the
    terminal.
    """
    return _TERMINAL_UNSAFE.sub(_visible, text)


def xml_text(text: str) -> str:
    r"""Return ``text`` with the characters XML 1.0 cannot hold as visible escapes (``\x1b``).

    Tab, newline and carriage return stay; other C0 controls, lone surrogates, U+FFFE and U+FFFF
    become ``\xNN`` or ``\uNNNN``. Everything else is kept as written (XML escaping of ``<``,
    ``&`` and quotes is the serialiser's job).
    """
    return _XML_INVALID.sub(_visible, text)


# --------------------------------------------------------------------------- CSV cells

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Return a text cell no spreadsheet runs: one starting like a formula gets a leading ``'``.

    For text cells only: numbers are written as numbers (``-5`` stays ``-5``).
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


# --------------------------------------------------------------------------- reserved columns

#: Column names ccamap sets itself, so an attribute column may not use them (compared without
#: case: GeoPackage, SQLite and PostGIS columns are case-insensitive): the geometry and its
#: per-vertex lists (from the GeoJSON), ``layer`` and ``length_km`` (set by the join), the
#: properties the map pages add, and the columns export formats add (``WKT`` in CSV, ``fid`` and
#: ``geom`` in GeoPackage, ``ogc_fid`` in GDAL's SQL drivers, ``bbox`` in GeoParquet).
RESERVED_COLUMNS: tuple[str, ...] = (
    "geometry", "waypoints", "coordinate_sources", "layer", "length_km",
    "_first_year", "_style", "_tooltip", "_card", "_category",
    "wkt", "fid", "geom", "ogc_fid", "bbox",
)
_RESERVED = frozenset(RESERVED_COLUMNS)


def reserved_column(name: str) -> bool:
    """Whether ``name`` is one of :data:`RESERVED_COLUMNS` (ignoring case and outer spaces)."""
    return name.strip().casefold() in _RESERVED


# --------------------------------------------------------------------------- import sources

#: A GDAL virtual file system (``/vsicurl/``, ``/vsis3/``, ``/vsizip/`` …) anywhere in a path.
_VSI = re.compile(r"(?i)/vsi[a-z0-9_]*(/|$)")
#: A URL or a GDAL connection string (``https://``, ``ftp://``, ``PG:``, ``WFS:`` …).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
#: The root elements of GDAL's XML virtual formats, which can name any file or URL as a source.
_VRT = re.compile(rb"(?i)<\s*(OGRVRTDataSource|VRTDataset)\b")
_SNIFF_BYTES = 65_536
_MAX_MEMBERS = 1_000


def _refuse(path: object, found: str) -> UnsafeSourceError:
    return UnsafeSourceError(
        f"{path}: expected a local data file GDAL reads without the network (GeoPackage, "
        f"GeoJSON, KML, Shapefile…), found {found}; save a local copy in one of those formats")


def _is_archive(path: Path, head: bytes) -> bool:
    with contextlib.suppress(OSError, tarfile.TarError):
        return (head.startswith((b"PK\x03\x04", b"\x1f\x8b")) or zipfile.is_zipfile(path)
                or tarfile.is_tarfile(path))
    return False


def _archive_heads(path: Path, head: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield ``(member name, first bytes)`` of each member of a zip, tar or gzip archive."""
    if head.startswith(b"PK\x03\x04") or zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise _refuse(path, f"an archive of {len(infos):,} members")
            for info in infos:
                if not info.is_dir():
                    with archive.open(info) as fh:
                        yield info.filename, fh.read(_SNIFF_BYTES)
    elif head.startswith(b"\x1f\x8b"):
        with gzip.open(path) as fh:
            yield path.stem, fh.read(_SNIFF_BYTES)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for number, member in enumerate(archive):
                if number >= _MAX_MEMBERS:
                    raise _refuse(path, f"an archive of more than {_MAX_MEMBERS:,} members")
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    with extracted:
                        yield member.name, extracted.read(_SNIFF_BYTES)


def check_local_source(path: str | os.PathLike[str]) -> Path:
    """Refuse a file GDAL could only read by reaching the network; return its absolute path.

    Refused: a URL or connection string (``https://``, ``ftp://``, ``PG:``…), any path through a
    GDAL virtual file system (``/vsicurl/``, ``/vsis3/``…), a ``!`` (an archive member for
    GDAL), anything that is not a regular file, and an OGR or GDAL VRT (by name or by content,
    also inside a zip, tar or gzip archive): a VRT can name URLs and other files as its sources.
    The absolute path returned is what to give GDAL, so no part of the name is read as a
    driver prefix.

    Raises
    ------
    UnsafeSourceError
        Naming the file and what made it unsafe.
    CcamapError
        If there is no such file, or it cannot be read.
    """
    text = os.fspath(path)
    file = Path(text)
    if _VSI.search(text):
        raise _refuse(text, "a GDAL virtual file system path (/vsi…/)")
    if "://" in text or (_SCHEME.match(text) and not file.is_file()):
        raise _refuse(text, "a URL or connection string")
    if "!" in text:
        raise _refuse(text, "a '!' in the name (GDAL reads it as an archive member)")
    if not file.is_file():
        found = "no such file" if not file.exists() else "something that is not a regular file"
        msg = f"{text}: expected a file GDAL reads, found {found}"
        raise CcamapError(msg)
    if file.suffix.lower() == ".vrt":
        raise _refuse(text, "a .vrt file (a VRT can make GDAL read URLs and other files)")
    try:
        with file.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        msg = f"{text}: expected a readable file, found {exc.strerror or exc}"
        raise CcamapError(msg) from None
    if _is_archive(file, head):
        with contextlib.suppress(OSError, EOFError, zipfile.BadZipFile, tarfile.TarError):
            for name, member_head in _archive_heads(file, head):
                if name.lower().endswith(".vrt") or _VRT.search(member_head):
                    raise _refuse(text, f"an archive holding the VRT {name!r} (a VRT can make "
                                        "GDAL read URLs and other files)")
    if _VRT.search(head):
        raise _refuse(text, "an OGR VRT document (a VRT can make GDAL read URLs and other "
                            "files)")
    return Path(os.path.abspath(file))
