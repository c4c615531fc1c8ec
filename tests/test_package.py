"""The ``ccamap`` package's API: names that stay functions, and what importing it costs."""

from __future__ import annotations

import importlib
import subprocess
import sys

import ccamap


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
