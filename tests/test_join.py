from __future__ import annotations

import pytest

from ccamap.join import geodesic_length_km, join_layer
from ccamap.report import Report
from ccamap.validate import validate

from conftest import LINE, feature, record, write_layer


def test_geodesic_length_of_one_degree_of_latitude():
    import geopandas as gpd
    from shapely.geometry import LineString

    s = gpd.GeoSeries([LineString([(75.0, 39.0), (75.0, 40.0)])], crs="EPSG:4326")
    assert geodesic_length_km(s).iloc[0] == pytest.approx(111.0, abs=0.2)


def test_join_is_one_to_one_with_computed_length(geodata):
    report, inputs, _ = validate(geodata)
    gdf = join_layer(inputs["railways"], report)
    assert list(gdf["id"]) == ["rail-one"]
    assert gdf.crs == "EPSG:4326"
    assert gdf["length_km"].iloc[0] == pytest.approx(262.0, abs=5)
    assert gdf["countries"].iloc[0] == ["CHN", "KAZ"]
    assert gdf.columns[-1] == "geometry"


@pytest.mark.parametrize(("reported", "warned"), [("260", False), ("500", True), ("150", True)])
def test_length_disagreement_warns(geodata, reported, warned):
    row = record("railways", "rail-one", length_km_reported=reported,
                 field_sources="status=seed-001; status_year=seed-001; "
                               "length_km_reported=seed-001")
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    report, inputs, _ = validate(geodata, ["railways"])
    join_layer(inputs["railways"], report)
    assert ("length-mismatch" in report.codes()) is warned


def test_point_layers_have_no_length(geodata):
    _, inputs, _ = validate(geodata, ["power_plants"])
    assert "length_km" not in join_layer(inputs["power_plants"], Report()).columns


def test_extra_columns_are_kept_unchanged(geodata):
    from ccamap.render import card_html

    row = record("railways", "rail-one")
    row["<b>x</b>"] = "<script>alert(1)</script>"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    report, inputs, sources = validate(geodata, ["railways"])
    gdf = join_layer(inputs["railways"], report)
    assert gdf["<b>x</b>"].iloc[0] == "<script>alert(1)</script>"
    html = card_html(gdf.drop(columns="geometry").iloc[0].to_dict(), inputs["railways"].layer,
                     sources)
    assert "<tr><th>&lt;b&gt;x&lt;/b&gt;</th><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>" \
        in html
