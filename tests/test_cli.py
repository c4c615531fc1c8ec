from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ccamap.cli import app
from ccamap.layers import LAYERS

from conftest import LINE, POINT, feature, record, write_layer

runner = CliRunner()
COMMANDS = ["build", "validate", "export", "layers", "import"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help(command, flag):
    result = runner.invoke(app, [command, flag])
    assert result.exit_code == 0
    assert "Example:" in result.output or "Examples:" in result.output
    # each example on its own line, as written: an example is a command line, not prose
    examples = result.output.split("Example")[1].split("\n\n")[0].splitlines()[1:]
    assert examples and all(line.startswith("    ccamap ") or line.startswith("      ")
                            for line in examples), examples


def test_top_level_help():
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_validate_ok(geodata):
    result = runner.invoke(app, ["validate", "--geodata", str(geodata)])
    assert result.exit_code == 0, result.output
    assert f"{len(LAYERS)} layers, {len(LAYERS)} features: 0 errors, 0 warnings" in result.output


def test_validate_fails_with_exit_1_and_names_file_feature_field(geodata):
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", status="planned")])
    result = runner.invoke(app, ["validate", "--geodata", str(geodata)])
    assert result.exit_code == 1
    assert (f"error: {geodata}/railways.csv [rail-one] status: bad value in column 'status' "
            "(expected one of announced, pre-construction, construction, operating, shelved, "
            "cancelled, mothballed, retired, found 'planned') [status-vocabulary]"
            ) in result.output


def test_validate_json_report(geodata):
    (geodata / "power_plants.geojson").write_text('{"type": "FeatureCollection", "features": ['
                                                  '{"type": "Feature", "properties": '
                                                  '{"id": "powe-one"}, "geometry": {"type": '
                                                  '"Point", "coordinates": [44.2, 80.3]}}]}')
    result = runner.invoke(app, ["validate", "-g", str(geodata), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    problem = doc["problems"][0]
    assert set(problem) == {"severity", "file", "feature_id", "field", "code", "expected",
                            "found", "message"}
    assert (problem["code"], problem["feature_id"], problem["field"]) == (
        "probable-swap", "powe-one", "geometry")
    assert doc["summary"]["error"] == 1


def test_strict_turns_warnings_into_failure(geodata):
    raw = (geodata / "railways.geojson").read_bytes()
    (geodata / "railways.geojson").write_bytes(b"\xef\xbb\xbf" + raw)
    assert runner.invoke(app, ["validate", "-g", str(geodata)]).exit_code == 0
    assert runner.invoke(app, ["validate", "-g", str(geodata), "--strict"]).exit_code == 1


def test_unknown_layer_is_usage_error(geodata):
    result = runner.invoke(app, ["build", "canals", "-g", str(geodata)])
    assert result.exit_code == 2
    assert "unknown layer 'canals'" in result.output


def test_unknown_export_format_is_usage_error(geodata, tmp_path):
    result = runner.invoke(app, ["export", "--format", "shp", "-g", str(geodata),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown export format 'shp'; expected one of: geojson" in result.output


def test_build_writes_maps_and_exports(geodata, tmp_path):
    out = tmp_path / "maps"
    result = runner.invoke(app, ["build", "-g", str(geodata), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    for name in LAYERS:
        assert (out / f"{name}.html").is_file()
        assert (out / "export" / f"{name}.geojson").is_file()


def test_build_named_layer_rebuilds_its_page_and_the_overview(geodata, tmp_path):
    out = tmp_path / "maps"
    assert runner.invoke(app, ["build", "-g", str(geodata), "-o", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.html")}
    exports_before = {p.name: p.read_bytes() for p in (out / "export").glob("*")}
    # a change to another layer: the overview and table must show it, its own page must not
    write_layer(geodata, "sites", [feature("site-one", POINT)],
                [record("sites", "site-one", name="Renamed site")])
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", name="Renamed railway")])
    result = runner.invoke(app, ["build", "railways", "-g", str(geodata), "-o", str(out)])
    assert result.exit_code == 0, result.output
    after = {p.name: p.read_bytes() for p in out.glob("*.html")}
    assert sorted(after) == sorted(before)
    changed = sorted(n for n in after if after[n] != before[n])
    assert changed == ["index.html", "railways.html", "table.html"]
    assert b"Renamed site" in after["index.html"] and b"Renamed site" in after["table.html"]
    assert b"Renamed site" not in after["sites.html"]  # only the named layer's page
    exports_after = {p.name: p.read_bytes() for p in (out / "export").glob("*")}
    assert [n for n in exports_after if exports_after[n] != exports_before[n]] == [
        "railways.geojson"]


def test_build_reports_progress_by_stage(geodata, tmp_path):
    from ccamap.pipeline import build

    seen: list[tuple[str, int, int]] = []
    build(geodata, tmp_path / "maps", progress=lambda *a: seen.append(a))
    stages = list(dict.fromkeys(s for s, _, _ in seen))
    assert stages == ["validate", "render", "export", "write"]
    renders = [(d, t) for s, d, t in seen if s == "render"]
    assert renders[-1] == (len(LAYERS) + 2, len(LAYERS) + 2)  # every page, overview, table


def test_progress_bar_only_on_a_terminal(geodata, tmp_path):
    import os
    import pty
    import subprocess
    import sys

    args = [sys.executable, "-m", "ccamap", "build", "-g", str(geodata), "-o",
            str(tmp_path / "maps")]
    piped = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "Building" not in piped.stderr and "\x1b[" not in piped.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=follower,
                            env=dict(os.environ, COLUMNS="100", TERM="xterm"))
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    assert b"Building" in b"".join(chunks)


def test_failed_build_leaves_previous_outputs(geodata, tmp_path):
    out = tmp_path / "maps"
    assert runner.invoke(app, ["build", "-g", str(geodata), "-o", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    source_before = {p: p.read_bytes() for p in geodata.iterdir()}
    (geodata / "pipelines.csv").write_text("id,name\n", encoding="utf-8")
    result = runner.invoke(app, ["build", "-g", str(geodata), "-o", str(out)])
    assert result.exit_code == 1
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    source_before[geodata / "pipelines.csv"] = b"id,name\n"
    assert {p: p.read_bytes() for p in geodata.iterdir()} == source_before


def test_layers_lists_counts_and_statuses(geodata):
    result = runner.invoke(app, ["layers", "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    for name in LAYERS:
        assert name in result.output
    assert "operating 1" in result.output


def test_validate_fix_backs_up_repairs_and_prints_a_diff(geodata):
    geom = {"type": "LineString",
            "coordinates": [[80.0, 44.0], [80.0, 44.0], [79.0, 43.5], [77.0, 43.2]]}
    write_layer(geodata, "railways", [feature("rail-one", geom)], [record("railways", "rail-one")])
    before = (geodata / "railways.geojson").read_bytes()
    assert runner.invoke(app, ["validate", "-g", str(geodata), "--strict"]).exit_code == 1
    result = runner.invoke(app, ["validate", "-g", str(geodata), "--fix", "--strict"])
    assert result.exit_code == 0, result.output
    assert "duplicate-vertex" in result.output
    assert "--- " in result.output and "+++ " in result.output
    backups = list((geodata / ".backup").glob("*/railways.geojson"))
    assert [b.read_bytes() for b in backups] == [before]
    fixed = json.loads((geodata / "railways.geojson").read_text("utf-8"))["features"][0]
    assert len(fixed["geometry"]["coordinates"]) == 3
    assert len(fixed["properties"]["waypoints"]) == 3


def test_notes_are_counted_after_ten_per_code_and_listed_with_verbose(geodata):
    crossing = {"type": "LineString",
                "coordinates": [[80.0, 44.0], [81.0, 45.0], [81.0, 44.0], [80.0, 45.0]]}
    ids = [f"rail-x{i:02d}" for i in range(13)]
    write_layer(geodata, "railways", [feature(i, crossing) for i in ids],
                [record("railways", i, countries="KAZ") for i in ids])
    short = runner.invoke(app, ["validate", "--geodata", str(geodata)])
    assert short.exit_code == 0, short.output
    listed = [i for i in ids if f"[{i}]" in short.output]
    assert listed == ids[:10]
    assert "... and 3 more notes [self-crossing]" in short.output
    full = runner.invoke(app, ["validate", "--geodata", str(geodata), "--verbose"])
    assert [i for i in ids if f"[{i}]" in full.output] == ids
    assert "more notes" not in full.output
    as_json = runner.invoke(app, ["validate", "--geodata", str(geodata), "--format", "json"])
    codes = [p["code"] for p in json.loads(as_json.output)["problems"]]
    assert codes.count("self-crossing") == 13


def test_main_freezes_the_collector_once_the_command_is_done(monkeypatch):
    # the last collection at exit would walk every object still alive: frozen out of its reach
    import gc

    import ccamap.__main__ as ccamap_command
    from ccamap import cli

    seen = []

    def command():
        seen.append(gc.get_freeze_count())
        raise SystemExit(0)

    monkeypatch.setattr(cli, "app", command)
    try:
        with pytest.raises(SystemExit):
            ccamap_command.main()
        assert seen  # the command ran first
        assert gc.get_freeze_count() > seen[0]
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_command_turns_the_collector_off_before_the_cli_is_imported():
    import subprocess
    import sys

    # a fresh `ccamap --help`: the state of the collector when Typer is imported
    probe = """
import gc, sys
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            print("typer imported, collector on:", gc.isenabled())
sys.meta_path.insert(0, Spy())
import ccamap.__main__ as command
sys.argv = ["ccamap", "--help"]
command.main()
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "typer imported, collector on: False" in done.stdout
    assert "Usage: ccamap" in done.stdout
    # a library import leaves it on
    library = subprocess.run([sys.executable, "-c", "import gc, ccamap.pipeline; "
                              "print(gc.isenabled())"], capture_output=True, text=True, check=True)
    assert library.stdout.split() == ["True"]
