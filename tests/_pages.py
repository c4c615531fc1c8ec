"""Read the data a built map page carries (what the map runtime, ``assets/runtime/``, draws)."""

from __future__ import annotations

import json
import re
from typing import Any


def page_features(page: str) -> list[dict[str, Any]]:
    """The features every ``ccamap.addLayer(map, key, data)`` call of a page carries.

    Each is its row of the layer's attribute table, as a dict, with its ``layer``.
    """
    decoder = json.JSONDecoder()
    out = []
    for match in re.finditer(r"ccamap\.addLayer\([^,]+,\s*\"([a-z_]+)\",\s*", page):
        data, _ = decoder.raw_decode(page, match.end())
        out.extend({**dict(zip(data["columns"], row, strict=True)), "layer": match.group(1)}
                   for row in data["rows"])
    return out
