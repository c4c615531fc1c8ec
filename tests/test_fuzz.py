"""Property tests: random and malformed input never escapes as anything but a CcamapError.

The only outcomes allowed for loading are a dataset (with a report) or a ``CcamapError`` with a
message; a build that fails writes nothing. Each example runs under a time limit (no hangs).
And load → export (GeoJSON) → load gives back the same features and values.

Examples per run: 50 + 50 + 40 + 40 + 10 + 20 = 210 (see ``max_examples`` below).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccamap.errors import CcamapError, ValidationError
from ccamap.export import geojson_text
from ccamap.join import join_layer
from ccamap.layers import LAYERS, STATUSES
from ccamap.pipeline import build, load
from ccamap.validate import SOURCE_COLUMNS, validate

from conftest import SOURCES, feature, record, write_csv, write_layer

CASES = Path(__file__).parent / "cases"
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
TIME_LIMIT_S = 20


@contextlib.contextmanager
def time_limit(seconds: int = TIME_LIMIT_S) -> Iterator[None]:
    """Fail (instead of hanging) if the block runs longer than ``seconds``."""
    if sys.platform == "win32":
        yield
        return

    def expired(*_: object) -> None:
        msg = f"no result after {seconds} s: a hang"
        raise AssertionError(msg)

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def tiny_geodata() -> Iterator[Path]:
    """The conftest dataset (one valid feature per layer) plus synthetic country outlines."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "geodata"
        root.mkdir()
        write_csv(root / "sources.csv", SOURCES, list(SOURCE_COLUMNS))
        for name, layer in LAYERS.items():
            geom = ({"type": "LineString", "coordinates": [[80.0, 44.0], [77.0, 43.2]]}
                    if layer.is_line else {"type": "Point", "coordinates": [80.3, 44.2]})
            fid = f"{name.split('_')[0][:4]}-one"
            write_layer(root, name, [feature(fid, geom)], [record(name, fid)])
        shutil.copy(CASES / "spatial-accepted" / "boundaries.geojson", root)
        yield root


def load_or_error(root: Path, layer: str) -> None:
    """Load one layer of ``root`` as :func:`ccamap.load` does, plus the spatial checks.

    Only a CcamapError with a message may escape; problems must carry a code and a message.
    """
    with time_limit():
        try:
            report, inputs, _ = validate(root, [layer])  # includes the spatial checks
            for inp in inputs.values():
                join_layer(inp, report)
            for problem in report:
                assert problem.code and problem.message
            if report.failed():
                raise ValidationError(report)
        except CcamapError as exc:
            assert str(exc).strip()


# --------------------------------------------------------------------------- strategies

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=20, max_value=56), st.floats(min_value=20, max_value=125),
    st.integers(min_value=-10**20, max_value=10**20),
)
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), numbers,
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                      st.integers(), max_size=2))
positions = st.one_of(st.lists(numbers, min_size=0, max_size=4), junk)
region_position = st.tuples(st.floats(min_value=70, max_value=90),
                            st.floats(min_value=38, max_value=50)).map(list)
geometries = st.one_of(
    st.none(),
    junk,
    st.builds(lambda t, c: {"type": t, "coordinates": c},
              st.sampled_from(["Point", "LineString", "MultiLineString", "Polygon",
                               "point", "GeometryCollection", 7]),
              st.one_of(positions, st.lists(positions, max_size=4),
                        st.lists(st.lists(positions, max_size=3), max_size=3))),
    st.builds(lambda c: {"type": "LineString", "coordinates": c},
              st.lists(region_position, min_size=0, max_size=5)),
    st.builds(lambda c: {"type": "Point", "coordinates": c}, region_position),
    # positions nested too deep or too shallow for the type ("nested coordinates in a LineString")
    st.builds(lambda t, c: {"type": t, "coordinates": c},
              st.sampled_from(["Point", "LineString", "MultiLineString"]),
              st.recursive(region_position, lambda inner: st.lists(inner, min_size=1,
                                                                   max_size=3), max_leaves=8)),
)
ids = st.one_of(st.sampled_from(["rail-one", "rail-two", "powe-one", " rail-one", "RAIL-ONE",
                                 "rail-оne", ""]),
                st.text(max_size=8), st.integers(), st.none())
features = st.one_of(
    junk,
    st.builds(lambda i, g, w: {"type": "Feature", "properties": {"id": i, "waypoints": w,
                                                                 "coordinate_sources": w},
                               "geometry": g},
              ids, geometries, st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=5))),
)
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", "inf", "-1", "1e400", "nan", "2025", "007", "2025-01-01",
                     "KAZ;CHN", "operating", "<script>alert(1)</script>", '{"a": 1}',
                     "seed-001", "status=seed-001", "capacity=nope", "schematic", "rail;road"]),
)


# --------------------------------------------------------------------------- properties


@settings(FUZZ, max_examples=50)
@given(layer=st.sampled_from(list(LAYERS)), feats=st.lists(features, max_size=4),
       crs=st.one_of(st.none(), junk, st.sampled_from([
           {"type": "name", "properties": {"name": "EPSG:3857"}},
           {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
           {"type": "name", "properties": {"name": "EPSG:999999"}}])))
def test_random_features(layer, feats, crs):
    with tiny_geodata() as root:
        doc: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
        if crs is not None:
            doc["crs"] = crs
        (root / f"{layer}.geojson").write_text(json.dumps(doc), encoding="utf-8")
        load_or_error(root, layer)


@settings(FUZZ, max_examples=50)
@given(layer=st.sampled_from(list(LAYERS)), data=st.data())
def test_random_attribute_tables(layer, data):
    columns = LAYERS[layer].columns
    header = data.draw(st.one_of(
        st.just(columns),
        st.permutations(columns),
        st.lists(st.sampled_from([*columns, "ID", "Status", "extra", ""]), max_size=12),
    ))
    fid = f"{layer.split('_')[0][:4]}-one"
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)),
                              max_size=3))
    if "id" in header and rows and data.draw(st.booleans()):
        rows[0][header.index("id")] = fid
    with tiny_geodata() as root:
        with (root / f"{layer}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        load_or_error(root, layer)


@settings(FUZZ, max_examples=40)
@given(layer=st.sampled_from(list(LAYERS)), suffix=st.sampled_from([".geojson", ".csv"]),
       raw=st.one_of(st.binary(max_size=200),
                     st.sampled_from([b"", b"\xef\xbb\xbf", b"{", b"[]", b"null", b"NaN",
                                      b'{"type": "FeatureCollection", "features": {}}',
                                      b'{"type": "FeatureCollection", "features": [], '
                                      b'"features": []}', b"id\n\x00", b'"a\n'])))
def test_random_bytes(layer, suffix, raw):
    with tiny_geodata() as root:
        (root / f"{layer}{suffix}").write_bytes(raw)
        load_or_error(root, layer)


@settings(FUZZ, max_examples=10)
@given(feats=st.lists(features, max_size=3))
def test_failed_build_writes_nothing(feats):
    with tiny_geodata() as root:
        (root / "railways.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
        out = root.parent / "maps"
        with time_limit(60):
            try:
                result = build(root, out)
            except CcamapError as exc:
                assert str(exc).strip()
                assert not out.exists() or not any(out.rglob("*"))
            else:
                assert sorted(p.name for p in result.written) == sorted(
                    p.name for p in out.rglob("*") if p.is_file())


@settings(FUZZ, max_examples=20)
@given(layer=st.sampled_from(list(LAYERS)), code=st.integers(0xD800, 0xDFFF),
       where=st.sampled_from(["waypoint", "id", "key", "value"]))
def test_lone_surrogate_escapes_are_load_errors(layer, code, where):
    """A ``\\uD800``-``\\uDFFF`` escape that is not half of a pair: a clear error, no crash."""
    with tiny_geodata() as root:
        path = root / f"{layer}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        props = doc["features"][0]["properties"]
        marker = "SURROGATE"
        if where == "waypoint":
            props["waypoints"][0] = marker
        elif where == "id":
            props["id"] = marker
        elif where == "key":
            props[marker] = "x"
        else:
            props["extra"] = marker
        path.write_text(json.dumps(doc).replace(marker, f"\\u{code:04x}"), encoding="utf-8")
        out = root.parent / "maps"
        with time_limit(60), pytest.raises(CcamapError) as info:
            build(root, out)
        assert "[json-surrogate]" in str(info.value)
        assert f"\\u{code:04x}" in str(info.value)
        assert not out.exists()


# --------------------------------------------------------------------------- round trip

coordinate = st.integers(min_value=-10**6, max_value=10**6).map(lambda n: n / 10**6)
lon = st.tuples(st.integers(71, 89), coordinate).map(lambda t: round(t[0] + t[1], 6))
lat = st.tuples(st.integers(39, 49), coordinate).map(lambda t: round(t[0] + t[1], 6))
vertex = st.tuples(lon, lat).map(list)
safe_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                    max_size=20).map(str.strip)


@st.composite
def valid_layer(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[dict[str, str]]]:
    name = draw(st.sampled_from(list(LAYERS)))
    layer = LAYERS[name]
    prefix = name.split("_")[0][:4]
    n = draw(st.integers(1, 3))
    feats, rows = [], []
    for i in range(n):
        fid = f"{prefix}-f{i}"
        if layer.is_line:
            coords = draw(st.lists(vertex, min_size=2, max_size=4, unique_by=tuple))
            geom = {"type": "LineString", "coordinates": coords}
        else:
            geom = {"type": "Point", "coordinates": draw(vertex)}
        feats.append(feature(fid, geom))
        values = {
            "name": draw(safe_text.filter(bool)),
            "name_zh": draw(safe_text),
            "status": draw(st.sampled_from(STATUSES)),
            "status_year": str(draw(st.integers(1950, 2040))),
            "capacity": draw(st.sampled_from(["", "0", "15", "2.5", "1000000"])),
            "description": draw(safe_text.filter(bool)),
            "notes": draw(st.sampled_from(["", "<b>bold</b> & 'quotes'", '{"a": 1}', "NA"])),
            "owners": draw(st.sampled_from(["", "A", "A; B", "Ürümqi Co."])),
        }
        if values["capacity"]:
            values["capacity_unit"] = "MW"
        rows.append(record(name, fid, **values))
    return name, feats, rows


def exported_to_geodata(name: str, text: str, root: Path) -> None:
    """Write an exported layer back in the geodata layout (GeoJSON + attribute CSV)."""
    layer = LAYERS[name]
    doc = json.loads(text)
    feats, rows = [], []
    for feat in doc["features"]:
        props = feat["properties"]
        feats.append({"type": "Feature", "geometry": feat["geometry"], "properties": {
            "id": props["id"], "waypoints": props["waypoints"],
            "coordinate_sources": props["coordinate_sources"]}})
        row = {}
        for f in layer.all_fields:
            value = props.get(f.name)
            if f.name == "sources":
                value = [c["id"] for c in value]
            if value is None:
                row[f.name] = ""
            elif isinstance(value, list):
                row[f.name] = "; ".join(str(v) for v in value)
            else:
                row[f.name] = str(value)
        rows.append(row)
    write_layer(root, name, feats, rows)


def frame_values(gdf: Any) -> list[dict[str, Any]]:
    out = []
    for rec in gdf.drop(columns="geometry").to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in rec.items()})
    return out


@settings(FUZZ, max_examples=40)
@given(case=valid_layer())
def test_load_export_load_round_trip(case):
    name, feats, rows = case
    with tiny_geodata() as root:
        # random coordinates lie in whatever country they fall in; the spatial checks are
        # tested in test_spatial.py, this property is about the data surviving a round trip
        (root / "boundaries.geojson").unlink()
        write_layer(root, name, feats, rows)
        with time_limit():
            first = load(root, [name])
            gdf = first.layers[name]
            text = geojson_text(gdf, first.sources)
            exported_to_geodata(name, text, root)
            second = load(root, [name]).layers[name]
        assert list(second["id"]) == list(gdf["id"])
        assert [g.wkb for g in second.geometry] == [g.wkb for g in gdf.geometry]
        assert frame_values(second) == frame_values(gdf)


def test_round_trip_of_the_bundled_data(tmp_path):
    """The same property on the real data: every layer exported and loaded back is unchanged."""
    from conftest import REPO

    root = tmp_path / "geodata"
    shutil.copytree(REPO / "geodata", root, ignore=shutil.ignore_patterns(".backup"))
    first = load(root)
    for name, gdf in first.layers.items():
        exported_to_geodata(name, geojson_text(gdf, first.sources), root)
    second = load(root)
    for name, gdf in first.layers.items():
        assert [g.wkb for g in second.layers[name].geometry] == [g.wkb for g in gdf.geometry]
        assert frame_values(second.layers[name]) == frame_values(gdf), name


@pytest.mark.parametrize("raw", [b'"', b'id,name\n"a,b\n'])
def test_malformed_csv_is_a_load_error(raw):
    with tiny_geodata() as root:
        (root / "railways.csv").write_bytes(raw)
        report, _, _ = validate(root, ["railways"])
        assert "csv-row" in report.codes() or "csv-header" in report.codes()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_and_infinity_literals_are_load_errors(bad, tmp_path):
    with tiny_geodata() as root:
        doc = {"type": "FeatureCollection", "features": [
            feature("rail-one", {"type": "LineString", "coordinates": [[bad, 44.0],
                                                                       [77.0, 43.2]]})]}
        (root / "railways.geojson").write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(CcamapError, match=r"railways\.geojson"):
            load(root)
