"""``ccamap build`` on the bundled ``geodata/``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _pages import page_features
from ccamap.cli import app
from ccamap.io import read_attribute_table
from ccamap.layers import LAYERS
from ccamap.validate import validate

from conftest import REPO

GEODATA = REPO / "geodata"
#: The inventory sizes the foundation issue asks for (at least).
MINIMUM = {"railways": 8, "pipelines": 7, "highways": 3, "power_plants": 12,
           "border_ports": 10, "sites": 10}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("maps")
    before = {p: p.read_bytes() for p in GEODATA.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["build", "-g", str(GEODATA), "-o", str(out)])
    assert result.exit_code == 0, result.output
    after = {p: p.read_bytes() for p in GEODATA.iterdir() if p.is_file()}
    assert after == before, "build wrote to geodata/"
    return out


def test_bundled_data_has_no_errors():
    report, inputs, _ = validate(GEODATA)
    assert report.errors == [], report.format(min_severity="error")
    assert set(inputs) == set(LAYERS)


@pytest.mark.parametrize("name", list(LAYERS))
def test_each_layer_is_built_with_every_feature(built, name):
    n_rows = len(read_attribute_table(GEODATA / f"{name}.csv"))
    n_features = len(json.loads((GEODATA / f"{name}.geojson").read_text("utf-8"))["features"])
    assert n_rows == n_features >= MINIMUM[name]
    exported = json.loads((built / "export" / f"{name}.geojson").read_text("utf-8"))
    assert len(exported["features"]) == n_features
    page = (built / f"{name}.html").read_text("utf-8")
    ids = [f["properties"]["id"] for f in exported["features"]]
    assert [f["id"] for f in page_features(page)] == ids
    assert page.count("ccamap.addLayer(") == 1


def test_index_holds_every_layer(built):
    page = (built / "index.html").read_text("utf-8")
    assert page.count("ccamap.addLayer(") == len(LAYERS)
    total = sum(len(read_attribute_table(GEODATA / f"{n}.csv")) for n in LAYERS)
    carried = page_features(page)
    assert len(carried) == total
    assert {f["layer"] for f in carried} == set(LAYERS)


def test_every_record_is_sourced_with_a_precision():
    for name, layer in LAYERS.items():
        table = read_attribute_table(GEODATA / f"{name}.csv")
        assert (table["sources"].str.strip() != "").all(), name
        precisions = ["exact", "approximate", "locality", "schematic"]
        assert table["geometry_precision"].isin(precisions).all()
        if not layer.is_line:  # a schematic point sits on its parent's schematic line
            schematic = table[table["geometry_precision"] == "schematic"]
            assert (schematic.get("parent_id", schematic["id"].map(lambda _: "")) != "").all()


def test_catalogue_covers_every_feature():
    catalogue = read_attribute_table(GEODATA / "catalogue.csv")
    listed = {i for ids in catalogue["ids"] for i in ids.split(";") if i}
    drawn = {i for n in LAYERS for i in read_attribute_table(GEODATA / f"{n}.csv")["id"]}
    assert listed == drawn
    undrawn = catalogue[catalogue["ids"] == ""]
    assert (undrawn["reason"].str.len() > 10).all()


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_two_builds_are_byte_identical(tmp_path, offline):
    from ccamap.pipeline import build

    first, second = tmp_path / "a", tmp_path / "b"
    build(GEODATA, first, offline=offline)
    build(GEODATA, second, offline=offline)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert "table.html" in {p.name for p in files}
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_offline_maps_reference_no_network_assets(tmp_path):
    from ccamap.pipeline import build

    build(GEODATA, tmp_path, offline=True)
    for page in tmp_path.glob("*.html"):
        html = page.read_text("utf-8")
        assert "<script src=" not in html and "<link rel=\"stylesheet\" href=" not in html
