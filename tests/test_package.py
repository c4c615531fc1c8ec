"""The ``ccamap`` package's API: names that stay functions, and what importing it costs."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

import ccamap

from conftest import REPO


def test_api_names_stay_functions_after_their_packages_are_imported():
    # ccamap.export and ccamap.validate are also package names; importing those packages
    # must not replace the API functions
    for module in ("ccamap.export", "ccamap.export.write", "ccamap.validate",
                   "ccamap.pipeline", "ccamap.render"):
        importlib.import_module(module)
    for name in ("build", "export", "load", "load_layer", "render_map", "validate"):
        assert callable(getattr(ccamap, name)), name
    assert ccamap.export.__module__ == "ccamap.pipeline"
    assert ccamap.validate.__module__ == "ccamap.validate"


def test_importing_ccamap_does_not_load_the_rendering_stack():
    code = ("import sys, ccamap; ccamap.validate; "
            "print(sorted(m for m in ('folium', 'branca', 'ccamap.render') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_package_data_holds_every_asset():
    # setuptools expands package-data patterns with glob, relative to the package
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    package = REPO / "src" / "ccamap"
    shipped = {path for pattern in config["tool"]["setuptools"]["package-data"]["ccamap"]
               for path in package.glob(pattern) if path.is_file()}
    assets = {path for path in (package / "assets").rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    assert assets, "no assets found"
    assert sorted(p.relative_to(package).as_posix() for p in assets - shipped) == []
