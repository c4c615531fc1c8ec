"""Helpers for the GIS tests: external tools, ogrinfo summaries, reading exports back."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from ccamap.export import LIST_SEPARATOR, export_frame, list_columns
from ccamap.layers import LAYERS

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require(available: bool, what: str) -> None:
    """Skip when a tool is missing, but fail under CI (which must install it)."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (.ci/run installs it) but is missing")
    pytest.skip(f"{what} not installed")


def require_ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    require(path is not None, "ogrinfo (gdal-bin)")
    return str(path)


def ogrinfo(path: Path, *layers: str) -> dict[str, dict[str, Any]]:
    """Run ``ogrinfo -so -al`` and return, per layer: count, geometry, extent and field types."""
    done = subprocess.run([require_ogrinfo(), "-ro", "-so", "-al", str(path), *layers],
                          capture_output=True, text=True, check=True)
    assert "ERROR" not in done.stderr, done.stderr
    out: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("Layer name: "):
            current = {"fields": {}}
            out[line.removeprefix("Layer name: ")] = current
        elif line.startswith("Feature Count: "):
            current["count"] = int(line.split(": ")[1])
        elif line.startswith("Geometry: "):
            current["geometry"] = line.split(": ")[1]
        elif line.startswith("Extent: "):
            nums = [float(v) for v in re.findall(r"-?\d+\.\d+", line)]
            current["extent"] = tuple(nums)
        elif (m := re.match(r"^(\w+): (\w+) \(", line)) and m.group(1) not in (
                "Layer", "Geometry", "FID"):
            current["fields"][m.group(1)] = m.group(2)
    return out


def _as_list(value: Any) -> list[str] | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        if value.startswith("["):
            items = json.loads(value)
            return [str(i["id"]) if isinstance(i, dict) else str(i) for i in items] or None
        return value.split(LIST_SEPARATOR) if value else None
    items = [str(i["id"]) if isinstance(i, dict) else str(i) for i in list(value)]
    return items or None


def restore(frame: pd.DataFrame, layer: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Give a frame read back from an export the types of :func:`ccamap.export.export_frame`."""
    reg = LAYERS[layer]
    lists = list_columns(reg)
    ints = [f.name for f in reg.all_fields if f.kind == "int"]
    floats = [f.name for f in reg.all_fields if f.kind == "float"] + ["length_km"]
    out = pd.DataFrame(index=range(len(frame)))
    for col in columns:
        values = list(frame[col])
        if col in ints:
            out[col] = pd.array([None if pd.isna(v) or v == "" else int(v) for v in values],
                                dtype="Int64")
        elif col in floats:
            out[col] = pd.Series([np.nan if v is None or v == "" else float(v)
                                  for v in values], dtype="float64")
        elif col in lists:
            items = [_as_list(v) for v in values]
            if col in ("waypoints", "coordinate_sources"):
                items = [v or [] for v in items]
            out[col] = pd.Series(items, dtype=object)
        else:
            out[col] = pd.Series([None if v is None or (isinstance(v, float) and np.isnan(v))
                                  else str(v) for v in values], dtype=object)
    geoms = gpd.GeoSeries(list(frame.geometry), crs=getattr(frame, "crs", None) or "EPSG:4326")
    return gpd.GeoDataFrame(out, geometry=geoms.force_2d().set_crs("EPSG:4326",
                                                                  allow_override=True))


def read_back(fmt: str, out: Path, layer: str) -> gpd.GeoDataFrame:
    """Read one exported layer with geopandas (or GeoPandas' GeoParquet reader)."""
    if fmt == "geojson":
        return gpd.read_file(out / f"{layer}.geojson")
    if fmt == "gpkg":
        return gpd.read_file(out / "ccamap.gpkg", layer=layer)
    if fmt == "kml":
        # LIBKML reads the placemark's id, <name> and <description> as the fields id, Name and
        # description, so the SchemaData fields of the same names come back suffixed with 2
        title = LAYERS[layer].title
        frame = gpd.read_file(out / "ccamap.kml", layer=title, engine="pyogrio")
        frame = frame.drop(columns=["id", "description"])
        return frame.rename(columns={"id2": "id", "name2": "name", "description2": "description"})
    if fmt == "csv":
        table = pd.read_csv(out / f"{layer}.csv", dtype=str, keep_default_na=False)
        table = table.replace({"": None})
        geoms = shapely.from_wkt(table.pop("WKT").to_numpy())
        return gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")
    if fmt == "parquet":
        return gpd.read_parquet(out / f"{layer}.parquet")
    if fmt == "fgb":
        return gpd.read_file(out / f"{layer}.fgb")
    raise AssertionError(fmt)


def assert_round_trip(fmt: str, out: Path, layer: str, joined: gpd.GeoDataFrame) -> None:
    """The exported layer read back equals the source: every value and every coordinate."""
    expected = export_frame(joined, layer)
    columns = [c for c in expected.columns if c != "geometry"]
    got = read_back(fmt, out, layer)
    missing = [c for c in columns if c not in got.columns]
    assert not missing, f"{fmt}: columns lost: {missing}"
    got = restore(got, layer, columns)
    got = got.sort_values("id", kind="stable").reset_index(drop=True)
    expected = expected.sort_values("id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(got[columns]), pd.DataFrame(expected[columns]),
                                  check_dtype=True)
    for fid, want, have in zip(expected["id"], expected.geometry, got.geometry, strict=True):
        if have.geom_type == "MultiLineString" and want.geom_type == "LineString":
            want = shapely.MultiLineString([want])
        assert shapely.equals_exact(want, have, tolerance=0), (fmt, fid, want.wkt, have.wkt)


def list_layers(path: Path) -> list[str]:
    return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
