from __future__ import annotations

import pandas as pd
import pytest

from ccamap.layers import LAYERS
from ccamap.report import Report
from ccamap.validate import check_attributes, check_features, check_join, validate

from conftest import LINE, POINT, SOURCES, feature, record, write_layer

SOURCE_TABLE = pd.DataFrame(SOURCES).set_index("id", drop=False)


def fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def table(layer, *rows):
    return pd.DataFrame([record(layer, **r) if isinstance(r, dict) and "fid" in r else r
                         for r in rows], dtype=object)


def test_valid_fixture_has_no_problems(geodata):
    report, inputs, sources = validate(geodata)
    assert report.errors == []
    assert report.warnings == []
    assert set(inputs) == set(LAYERS)
    assert list(sources.index) == ["seed-001", "geonames", "web-a"]


def test_check_features_returns_usable_geometry():
    report = Report()
    gdf = check_features(fc(feature("rail-a", LINE)), LAYERS["railways"], "r.geojson", report)
    assert list(gdf["id"]) == ["rail-a"]
    assert gdf.crs == "EPSG:4326"
    assert gdf.geometry.iloc[0].geom_type == "LineString"
    assert gdf["waypoints"].iloc[0] == ["P0", "P1", "P2"]
    assert len(report) == 0


def test_multilinestring_accepted_for_lines():
    geom = {"type": "MultiLineString",
            "coordinates": [[[80.0, 44.0], [79.0, 43.5]], [[50.0, 44.0], [49.9, 40.4]]]}
    report = Report()
    gdf = check_features(fc(feature("rail-a", geom)), LAYERS["railways"], "r", report)
    assert len(gdf) == 1 and len(report) == 0


def test_self_crossing_line_is_a_note():
    geom = {"type": "LineString",
            "coordinates": [[80.0, 44.0], [81.0, 45.0], [81.0, 44.0], [80.0, 45.0]]}
    report = Report()
    gdf = check_features(fc(feature("rail-a", geom)), LAYERS["railways"], "r", report)
    assert len(gdf) == 1
    assert [(p.severity, p.code) for p in report] == [("info", "self-crossing")]


def test_repeated_vertex_repair_keeps_waypoints_aligned():
    geom = {"type": "LineString", "coordinates": [[80.0, 44.0], [80.0, 44.0], [79.0, 43.0]]}
    report = Report()
    gdf = check_features(fc(feature("rail-a", geom)), LAYERS["railways"], "r", report)
    assert len(gdf.geometry.iloc[0].coords) == 2
    assert gdf["waypoints"].iloc[0] == ["P0", "P2"]
    assert report.codes() == ["duplicate-vertex"]


def test_altitude_is_dropped_with_warning():
    report = Report()
    geom = {"type": "Point", "coordinates": [80.3, 44.2, 650.0]}
    gdf = check_features(fc(feature("pp-a", geom)), LAYERS["power_plants"], "p", report)
    assert not gdf.geometry.iloc[0].has_z
    assert report.codes() == ["altitude-dropped"]


def test_antimeridian_crossing_rejected():
    geom = {"type": "LineString", "coordinates": [[179.5, 50.0], [-179.5, 50.0]]}
    report = Report()
    gdf = check_features(fc(feature("rail-a", geom)), LAYERS["railways"], "r", report)
    assert gdf.empty
    assert report.codes() == ["antimeridian"]


def test_check_attributes_parses_types():
    report = Report()
    row = record("pipelines", "pipe-a", capacity="55", capacity_unit="bcm/y",
                 countries="TKM;UZB;KAZ;CHN", owners="CNPC; KazMunayGas", start_year="2008",
                 field_sources="status=seed-001; status_year=seed-001; substance=seed-001; "
                               "capacity,owners,start_year=seed-001")
    typed = check_attributes(pd.DataFrame([row], dtype=object), LAYERS["pipelines"], "p.csv",
                             report)
    rec = typed.iloc[0].to_dict()
    assert rec["capacity"] == 55.0
    assert rec["start_year"] == 2008
    assert rec["countries"] == ["TKM", "UZB", "KAZ", "CHN"]
    assert rec["owners"] == ["CNPC", "KazMunayGas"]
    assert rec["name_zh"] is None
    assert report.errors == []


def test_unsourced_factual_field_is_a_warning(geodata):
    rows = [record("railways", "rail-a", capacity="10", capacity_unit="Mt/y")]
    report = Report()
    typed = check_attributes(pd.DataFrame(rows, dtype=object), LAYERS["railways"], "r.csv",
                             report)
    geoms = check_features(fc(feature("rail-a", LINE)), LAYERS["railways"], "r.geojson", report)
    check_join(geoms, typed, LAYERS["railways"], ("r.geojson", "r.csv"), SOURCE_TABLE, report)
    assert [(p.severity, p.code, p.field) for p in report] == [
        ("warning", "unsourced-field", "capacity")]


@pytest.mark.parametrize(
    ("field_sources", "code"),
    [
        ("status seed-001", "field-sources-syntax"),
        ("status=seed-001; colour=seed-001", "unknown-field"),
        ("status=seed-001; status_year=web-a", "uncited-source"),
    ],
)
def test_field_sources_problems(field_sources, code):
    row = record("railways", "rail-a", field_sources=field_sources)
    report = Report()
    typed = check_attributes(pd.DataFrame([row], dtype=object), LAYERS["railways"], "r", report)
    geoms = check_features(fc(feature("rail-a", LINE)), LAYERS["railways"], "g", report)
    check_join(geoms, typed, LAYERS["railways"], ("g", "r"), SOURCE_TABLE, report)
    assert code in [p.code for p in report.errors]


def test_capacity_needs_unit():
    row = record("power_plants", "pp-a", capacity="100",
                 field_sources="status=seed-001; status_year=seed-001; technology=seed-001; "
                               "capacity=seed-001")
    report = Report()
    typed = check_attributes(pd.DataFrame([row], dtype=object), LAYERS["power_plants"], "p",
                             report)
    geoms = check_features(fc(feature("pp-a", POINT)), LAYERS["power_plants"], "g", report)
    check_join(geoms, typed, LAYERS["power_plants"], ("g", "p"), SOURCE_TABLE, report)
    assert report.codes() == ["missing-unit"]


def test_point_cannot_be_schematic_and_port_sides_in_countries():
    row = record("border_ports", "port-a", geometry_precision="schematic", country_b="KGZ")
    report = Report()
    typed = check_attributes(pd.DataFrame([row], dtype=object), LAYERS["border_ports"], "b",
                             report)
    geoms = check_features(fc(feature("port-a", POINT)), LAYERS["border_ports"], "g", report)
    check_join(geoms, typed, LAYERS["border_ports"], ("g", "b"), SOURCE_TABLE, report)
    assert sorted(report.codes()) == ["port-countries", "precision"]


def test_all_problems_are_gathered(geodata):
    (geodata / "railways.csv").write_text(
        (geodata / "railways.csv").read_text().replace("operating", "planned"))
    (geodata / "pipelines.geojson").write_text("{")
    report, inputs, _ = validate(geodata)
    assert {"status-vocabulary", "json-syntax"} <= set(report.codes())
    assert "pipelines" not in inputs and "railways" in inputs


def _check_point(fid, geometry_feature, precision="locality"):
    row = record("sites", fid, geometry_precision=precision)
    report = Report()
    typed = check_attributes(pd.DataFrame([row], dtype=object), LAYERS["sites"], "s.csv",
                             report)
    geoms = check_features(fc(geometry_feature), LAYERS["sites"], "s.geojson", report)
    check_join(geoms, typed, LAYERS["sites"], ("s.geojson", "s.csv"), SOURCE_TABLE, report)
    return report


def test_locality_point_must_name_its_place():
    good = _check_point("site-a", feature("site-a", POINT, waypoints=["Almaty"]))
    assert good.errors == []
    for waypoints in ([], [""], ["  "], [None]):
        report = _check_point("site-b", feature("site-b", POINT, waypoints=waypoints))
        located = [(p.file, p.feature_id, p.field) for p in report.errors
                   if p.code == "locality-place"]
        assert located == [("s.geojson", "site-b", "waypoints")], (waypoints, report.codes())
    # a locality point without a coordinate source is reported like any other point
    report = _check_point("site-c", feature("site-c", POINT, waypoints=["Almaty"],
                                            coordinate_sources=[]))
    assert "coordinate-sources" in report.codes()
    # the same unnamed point is not a locality error when it claims another precision
    report = _check_point("site-d", feature("site-d", POINT, waypoints=[""]), "approximate")
    assert "locality-place" not in report.codes()


def test_progress_is_told_of_every_step(geodata):
    calls = []
    validate(geodata, progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [c[0] for c in calls]
    assert stages[0] == "sources"
    assert "railways: geometry" in stages and "railways: join" in stages
    done = [c[1] for c in calls]
    assert done == sorted(set(done)) and done[0] == 1  # one step at a time
    assert calls[-1][1] == calls[-1][2]


def test_layer_specific_rules_come_from_the_registry():
    assert LAYERS["border_ports"].sides == ("country_a", "country_b")
    assert LAYERS["railways"].crossing_ports is not None
    assert {n for n, layer in LAYERS.items() if layer.accuracy_field} == {
        n for n, layer in LAYERS.items() if layer.is_line}


def test_a_waypoint_name_holding_the_list_separator_is_a_warning(geodata):
    names = ["Pujijie (Puji town; Wugong station)", "P1", "P2"]
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=names)],
                [record("railways", "rail-one")])
    report, _, _ = validate(geodata)
    assert report.errors == []
    (warning,) = report.warnings
    assert (warning.code, warning.file.endswith("railways.geojson"), warning.feature_id,
            warning.field) == ("list-separator", True, "rail-one", "waypoints")
    assert "Pujijie (Puji town; Wugong station)" in warning.found
