"""Checks of the inventory catalogue (``catalogue.csv``) against the drawn features."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccamap import rules
from ccamap.errors import LoadError
from ccamap.readers import read_attribute_table
from ccamap.report import Report
from ccamap.validate.inputs import LayerInput, record_load_error, split_list

__all__ = ["check_catalogue"]


def check_catalogue(
    path: Path, inputs: dict[str, LayerInput], sources: pd.DataFrame, report: Report
) -> None:
    """Check the inventory catalogue: drawn items name existing ids, others give a reason."""
    file = str(path)
    try:
        table = read_attribute_table(path, report=report)
    except LoadError as exc:
        record_load_error(exc, report)
        return
    known = {fid for inp in inputs.values() for fid in inp.geometries["id"]}
    listed: set[str] = set()
    for row in table.to_dict("records"):
        item = str(row.get("item", ""))
        ids = split_list(str(row.get("ids", "")))
        listed.update(ids)
        for fid in ids:
            if fid not in known:
                report.add(rules.CATALOGUE_ID, file=file, feature_id=fid, field="ids",
                           expected="the id of a drawn feature", found=repr(fid),
                           message=f"catalogue item {item!r} names an unknown id")
        if not ids and not str(row.get("reason", "")).strip():
            report.add(rules.CATALOGUE_REASON, file=file, feature_id=item, field="reason",
                       expected="why the item is not drawn", found="nothing",
                       message="undrawn catalogue item without a reason")
        for sid in split_list(str(row.get("seed", ""))):
            if sid not in sources.index:
                report.add(rules.UNKNOWN_SOURCE, file=file, feature_id=item, field="seed",
                           expected="an id of sources.csv", found=repr(sid),
                           message="catalogue cites an unknown source")
    for fid in sorted(known - listed):
        report.add(rules.NOT_CATALOGUED, file=file, feature_id=fid, field="ids",
                   expected="every drawn feature in the catalogue", found="absent",
                   message="feature missing from the inventory catalogue")
