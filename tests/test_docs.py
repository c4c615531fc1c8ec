"""The licence the data is under is stated the same way everywhere a user may read it."""

from __future__ import annotations

import pandas as pd

from ccamap.render.chrome import chrome_html

from conftest import REPO


def test_every_licence_statement_names_the_odbl_database_and_cc_by_contents():
    texts = {
        "README.md": (REPO / "README.md").read_text("utf-8"),
        "LICENSE": (REPO / "LICENSE").read_text("utf-8"),
        "CITATION.cff": (REPO / "CITATION.cff").read_text("utf-8"),
        "geodata/README.md": (REPO / "geodata" / "README.md").read_text("utf-8"),
        "the map's licence dialog": chrome_html("t", pd.DataFrame(), site=True),
    }
    for where, text in texts.items():
        flat = " ".join(text.split())
        assert "ODbL" in flat, where
        assert "CC BY 4.0" in flat or "CC-BY-4.0" in flat, where
        assert "Data: CC BY 4.0" not in flat, where  # the old, wrong statement
