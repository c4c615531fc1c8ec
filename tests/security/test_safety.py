"""``ccamap.safety``: each guard on its own, with an attacker's inputs and the exact outcome."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import pytest

from ccamap.errors import CcamapError, UnsafeOutputError, UnsafeSourceError
from ccamap.safety import (
    check_local_source,
    check_output_dir,
    neutralise_formula,
    redact,
    reserved_column,
    sanitize_terminal,
    secrets_in_url,
    xml_text,
)

# --------------------------------------------------------------------------- output directories


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "geodata"
    (root / "sub").mkdir(parents=True)
    return root


@pytest.mark.parametrize("rel", [".", "sub", "sub/deeper/new", "./sub/../sub"])
def test_output_dir_inside_the_data_is_refused(data_dir, rel):
    out = data_dir / rel
    with pytest.raises(UnsafeOutputError) as info:
        check_output_dir(out, data_dir)
    assert str(info.value).startswith(
        f"{out}: expected an output directory outside the data directory {data_dir}, found one "
        "that ")
    assert not (data_dir / "sub" / "deeper").exists()  # nothing was created


def test_output_dir_through_a_symlink_into_the_data_is_refused(data_dir, tmp_path):
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "export").symlink_to(data_dir / "sub")
    with pytest.raises(UnsafeOutputError) as info:
        check_output_dir(maps / "export", data_dir)
    assert str(info.value) == (
        f"{maps / 'export'}: expected an output directory outside the data directory "
        f"{data_dir}, found one that lies inside it (it resolves to {data_dir / 'sub'}); "
        "ccamap never writes into the data directory, choose another --out")


def test_dangling_symlink_into_the_data_is_refused(data_dir, tmp_path):
    link = tmp_path / "out"
    link.symlink_to(data_dir / "not-yet")
    with pytest.raises(UnsafeOutputError, match="lies inside it"):
        check_output_dir(link / "more", data_dir)


def test_data_dir_given_through_a_symlink_is_still_found(data_dir, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(data_dir)
    with pytest.raises(UnsafeOutputError, match="found one that is it"):
        check_output_dir(data_dir, alias)


@pytest.mark.parametrize("rel", ["maps", "maps/export", "geodata-export", "."])
def test_output_dirs_beside_or_above_the_data_are_allowed(data_dir, tmp_path, rel):
    check_output_dir(tmp_path / rel, data_dir)  # an export only writes its own file names


# --------------------------------------------------------------------------- secrets

REDACTIONS = [
    ("postgresql://me:s3cretpw@db.example:5432/gis", "postgresql://me:***@db.example:5432/gis"),
    ("found 'postgresql://me:s3cr@t/pw@host:abc/db'", "found 'postgresql://me:***@host:abc/db'"),
    ("postgresql://me@host/db?sslmode=require&password=s3cretpw&x=1",
     "postgresql://me@host/db?sslmode=require&password=***&x=1"),
    ("host=db user=me password='s3cret pw' dbname=gis", "host=db user=me password=*** dbname=gis"),
    ("postgresql://me@host/db?PASSWORD=s3cretpw", "postgresql://me@host/db?PASSWORD=***"),
    ("found 'postgresql//me:s3cretpw@h/db'", "found 'postgresql//me:***@h/db'"),
    ("postgresql:/me:s3c/ret@h/db", "postgresql:***@h/db"),
    ("no secret here: postgresql://me@host:5432/db", "no secret here: postgresql://me@host:5432/db"),
]


@pytest.mark.parametrize(("text", "shown"), REDACTIONS)
def test_redact_hides_every_password(text, shown):
    assert redact(text) == shown


def test_redact_hides_known_secrets_wherever_they_appear():
    url = "postgresql://me:p%40ss-w0rd@host/db"
    assert secrets_in_url(url) == ["p%40ss-w0rd"]
    message = "driver said: authentication with 'p@ss-w0rd' failed"
    assert redact(message, known=secrets_in_url(url)) == \
        "driver said: authentication with '***' failed"


# --------------------------------------------------------------------------- terminal and XML

TERMINAL = [
    ("plain text", "plain text"),
    ("line one\nline two\r\n", "line one\nline two\r\n"),
    ("\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"),
    ("over\rwrite", "over\\x0dwrite"),
    ("tab\there", "tab\\x09here"),
    ("c1 \x9b31m csi", "c1 \\x9b31m csi"),
    ("del\x7f nul\x00", "del\\x7f nul\\x00"),
    ("bidi \u202eevil\u2066", "bidi \\u202eevil\\u2066"),
    ("中吉乌铁路 Қорғас", "中吉乌铁路 Қорғас"),
]


@pytest.mark.parametrize(("text", "shown"), TERMINAL)
def test_sanitize_terminal(text, shown):
    assert sanitize_terminal(text) == shown


XML = [
    ("a\x1bb", "a\\x1bb"),
    ("nul\x00", "nul\\x00"),
    ("\x0b\x0c", "\\x0b\\x0c"),
    ("\ufffe\uffff", "\\ufffe\\uffff"),
    ("tab\tnl\ncr\r", "tab\tnl\ncr\r"),
    ("<b>&amp; {{ x }}</b> 中 \U0001f600", "<b>&amp; {{ x }}</b> 中 \U0001f600"),
]


@pytest.mark.parametrize(("text", "shown"), XML)
def test_xml_text(text, shown):
    assert xml_text(text) == shown


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("Khorgos = gate", "Khorgos = gate"), ("", ""), ("'quoted", "'quoted"),
])
def test_neutralise_formula(cell, written):
    assert neutralise_formula(cell) == written


@pytest.mark.parametrize(("name", "reserved"), [
    ("geometry", True), ("waypoints", True), ("coordinate_sources", True), ("layer", True),
    ("length_km", True), ("Geometry", True), (" LAYER ", True), ("WKT", True), ("fid", True),
    ("geom", True), ("bbox", True), ("_card", True),
    ("length_km_reported", False), ("geometry_precision", False), ("notes", False),
])
def test_reserved_column(name, reserved):
    assert reserved_column(name) is reserved


# --------------------------------------------------------------------------- import sources

VRT = ('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://attacker.example/'
       'x.geojson</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')


@pytest.mark.parametrize(("given", "found"), [
    ("http://attacker.example/route.geojson", "a URL or connection string"),
    ("https://attacker.example/route.gpkg", "a URL or connection string"),
    ("ftp://attacker.example/route.kml", "a URL or connection string"),
    ("zip+https://attacker.example/a.zip!r.shp", "a URL or connection string"),
    ("PG:host=attacker.example dbname=x", "a URL or connection string"),
    ("/vsicurl/http://attacker.example/r.geojson", "a GDAL virtual file system path (/vsi…/)"),
    ("/vsis3/bucket/r.gpkg", "a GDAL virtual file system path (/vsi…/)"),
    ("/vsizip//vsicurl/http://attacker.example/a.zip", "a GDAL virtual file system path (/vsi…/)"),
])
def test_network_paths_are_refused(given, found):
    with pytest.raises(UnsafeSourceError) as info:
        check_local_source(given)
    assert str(info.value) == (
        f"{given}: expected a local data file GDAL reads without the network (GeoPackage, "
        f"GeoJSON, KML, Shapefile…), found {found}; save a local copy in one of those formats")


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "found"), [
    ("route.vrt", VRT.encode(), "a .vrt file"),
    ("route.VRT", b"<x/>", "a .vrt file"),
    ("route.geojson", b"\xef\xbb\xbf  <?xml version='1.0'?>\n" + VRT.encode(),
     "an OGR VRT document"),
    ("route.gpkg", VRT.replace("OGRVRTDataSource", "ogrvrtdatasource").encode(),
     "an OGR VRT document"),
    ("route.zip", _zip({"doc.txt": "x", "inner/r.vrt": VRT}), "an archive holding the VRT "
                                                               "'inner/r.vrt'"),
    ("route.shp.zip", _zip({"r.geojson": VRT}), "an archive holding the VRT 'r.geojson'"),
    ("route.geojson.gz", gzip.compress(VRT.encode()), "an archive holding the VRT"),
])
def test_vrt_files_are_refused_by_name_and_content(tmp_path, name, content, found):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsafeSourceError, match="found " + found):
        check_local_source(path)


def test_a_local_file_is_accepted_as_an_absolute_path(tmp_path, monkeypatch):
    path = tmp_path / "PG:route.geojson"  # a name GDAL would read as a connection string
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert check_local_source(Path("./PG:route.geojson")) == path
    assert os.path.isabs(check_local_source(Path("./PG:route.geojson")))


def test_missing_file_is_a_plain_error(tmp_path):
    with pytest.raises(CcamapError) as info:
        check_local_source(tmp_path / "nope.gpkg")
    assert not isinstance(info.value, UnsafeSourceError)
    assert str(info.value) == f"{tmp_path / 'nope.gpkg'}: expected a file GDAL reads, found no " \
                              "such file"
