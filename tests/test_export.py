from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from shapely.geometry import LineString

from ccamap.errors import ExportError, UsageError
from ccamap.export import check_format, round_geometry
from ccamap.layers import LAYERS
from ccamap.pipeline import export

from conftest import feature, record, write_layer

NEEDS_OGR = pytest.mark.skipif(
    shutil.which("ogrinfo") is None and not os.environ.get("CI"),
    reason="ogrinfo (gdal-bin) not installed; .ci/run installs it",
)


def test_geojson_is_rfc7946(geodata, tmp_path):
    geom = {"type": "LineString", "coordinates": [[80.1234567891, 44.0], [79.0, 43.5]]}
    row = record("railways", "rail-one", capacity="12.5", capacity_unit="Mt/y",
                 field_sources="status=seed-001; status_year=seed-001; capacity=seed-001",
                 description='{"looks": "like json"}')
    write_layer(geodata, "railways", [feature("rail-one", geom)], [row])
    paths = export(geodata, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(f"{n}.geojson" for n in LAYERS)
    doc = json.loads((tmp_path / "out" / "railways.geojson").read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert doc["bbox"] == [79.0, 43.5, 80.123457, 44.0]
    feat = doc["features"][0]
    assert feat["geometry"]["coordinates"][0] == [80.123457, 44.0]
    props = feat["properties"]
    assert props["capacity"] == 12.5
    assert props["status_year"] == 2025
    assert props["countries"] == ["CHN", "KAZ"]
    assert props["description"] == '{"looks": "like json"}'
    assert props["sources"][0]["title"] == "Championing the China-Central Asia Spirit"
    assert props["name_zh"] is None


def test_rounding_collapse_is_refused():
    line = LineString([(80.0, 44.0), (80.0000001, 44.0)])
    with pytest.raises(ExportError, match="collapses to a point"):
        round_geometry(line, "rail-x", 6)


def test_unknown_format():
    with pytest.raises(UsageError, match="expected one of: geojson"):
        check_format("shp")


@NEEDS_OGR
def test_ogrinfo_reads_exports_without_warnings(geodata, tmp_path):
    export(geodata, tmp_path / "out")
    for name in LAYERS:
        path = tmp_path / "out" / f"{name}.geojson"
        done = subprocess.run(["ogrinfo", "-al", "-so", str(path)], capture_output=True,
                              text=True, check=True)
        assert "Feature Count: 1" in done.stdout
        assert "Warning" not in done.stderr and "ERROR" not in done.stderr, done.stderr
