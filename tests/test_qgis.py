"""QGIS itself opens the GeoPackage: default styles from layer_styles, fields, a rendered PNG."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from _gis_tools import ARTIFACTS, require
from ccamap.export import write_export
from ccamap.layers import LAYERS
from ccamap.pipeline import load
from ccamap.qgis_style import style_fields

from conftest import REPO

SYSTEM_PYTHON = "/usr/bin/python3"

SCRIPT = r'''
import json, sys
from qgis.core import (QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererParallelJob,
                       QgsRectangle, QgsRenderContext)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

gpkg, png, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
app = QgsApplication([], False)
app.initQgis()
out = {}
layers = []
for name in names:
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    info = {"valid": layer.isValid(), "count": layer.featureCount()}
    # QGIS loads the default style from layer_styles when the layer is created; check that it
    # is the one stored, not QGIS's default single symbol
    styles = layer.listStylesInDatabase()
    info["styles_in_db"] = list(styles[2]) if styles[0] else []
    renderer = layer.renderer()
    info["renderer"] = renderer.type()
    ctx = QgsRenderContext()
    info["used"] = sorted(renderer.usedAttributes(ctx))
    info["fields"] = [f.name() for f in layer.fields()]
    info["legend"] = [item.label() for item in renderer.legendSymbolItems()]
    out[name] = info
    layers.append(layer)
extent = QgsRectangle()
for layer in layers:
    if layer.featureCount():
        extent.combineExtentWith(layer.extent())
extent.scale(1.1)
settings = QgsMapSettings()
settings.setLayers(layers)
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setOutputSize(QSize(1200, 800))
settings.setDestinationCrs(layers[0].crs())
settings.setExtent(extent)
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
out["_saved"] = image.save(png, "png")
colors = set()
for x in range(0, image.width(), 4):
    for y in range(0, image.height(), 4):
        colors.add(image.pixel(x, y))
out["_colors"] = len(colors)
print("CCAMAP" + json.dumps(out))
app.exitQgis()
'''


def _has_pyqgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          check=False)
    return done.returncode == 0


@pytest.mark.parametrize("data_dir", ["bundled", "tiny"])
def test_qgis_opens_gpkg_with_ccamap_styles(tmp_path, geodata, data_dir):
    require(_has_pyqgis(), "PyQGIS (apt-get install python3-qgis qgis-providers)")
    data = load(REPO / "geodata" if data_dir == "bundled" else geodata)
    (gpkg,) = write_export(data.layers, data.sources, "gpkg", tmp_path)
    script = tmp_path / "qgis_check.py"
    script.write_text(SCRIPT, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / f"qgis-{data_dir}.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run([SYSTEM_PYTHON, str(script), str(gpkg), str(png), ",".join(LAYERS)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("CCAMAP")), None)
    assert line is not None, done.stdout + done.stderr
    result = json.loads(line.removeprefix("CCAMAP"))
    for name, layer in LAYERS.items():
        info = result[name]
        assert info["valid"] and info["count"] == len(data.layers[name])
        assert info["styles_in_db"], f"{name}: no style in layer_styles"
        want = "RuleRenderer" if layer.category_field else "categorizedSymbol"
        assert info["renderer"] == want, (name, info["renderer"])
        assert set(info["used"]) <= set(info["fields"]), (name, info["used"])
        assert set(style_fields(layer)) <= set(info["used"]), (name, info["used"])
        assert "operating" in info["legend"]
    assert result["_saved"] and png.stat().st_size > 2_000
    assert result["_colors"] > 5  # more than a blank or single-colour image
