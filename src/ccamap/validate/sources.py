"""The sources table (``sources.csv``) and the ``field_sources`` notation that cites it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccamap import rules
from ccamap.errors import LoadError
from ccamap.readers import read_attribute_table
from ccamap.report import Report
from ccamap.validate.inputs import ID_PATTERN

__all__ = ["SOURCE_COLUMNS", "SOURCE_KINDS", "load_sources", "parse_field_sources"]

#: Columns of ``sources.csv``.
SOURCE_COLUMNS = ("id", "title", "publisher", "date", "url", "kind")
#: What a source is: a seed document, a web page, or a dataset.
SOURCE_KINDS = ("seed", "web", "dataset")


def load_sources(path: Path, report: Report) -> pd.DataFrame:
    """Read and check the sources table.

    Returns
    -------
    pandas.DataFrame
        Indexed by source id, with the columns of :data:`SOURCE_COLUMNS`.
    """
    file = str(path)
    table = read_attribute_table(path, report=report)
    missing = [c for c in SOURCE_COLUMNS if c not in table.columns]
    if missing:
        raise LoadError(file, f"columns {list(SOURCE_COLUMNS)}", f"{missing} missing",
                        code="missing-column")
    for number, row in enumerate(table.to_dict("records"), start=2):
        sid, title, kind, url = (str(row[k]) for k in ("id", "title", "kind", "url"))
        if not ID_PATTERN.match(sid):
            report.add(rules.ID_FORMAT, file=file, feature_id=sid or f"line {number}",
                       field="id", expected="a lowercase slug", found=repr(sid),
                       message="malformed source id")
        if not title.strip():
            report.add(rules.REQUIRED, file=file, feature_id=sid, field="title",
                       expected="a title", found="nothing", message="source has no title")
        if kind not in SOURCE_KINDS:
            report.add(rules.VOCABULARY, file=file, feature_id=sid, field="kind",
                       expected="one of " + ", ".join(SOURCE_KINDS), found=repr(kind),
                       message="unknown source kind")
        if kind == "web" and not url.startswith(("https://", "http://")):
            report.add(rules.SOURCE_URL, file=file, feature_id=sid, field="url",
                       expected="an http(s) address", found=repr(url),
                       message="web source without an address")
    dupes = table["id"][table["id"].duplicated()]
    for sid in dupes:
        report.add(rules.DUPLICATE_ID, file=file, feature_id=sid, field="id",
                   expected="a unique id", found="a second row", message="duplicate source id")
    return table.drop_duplicates("id").set_index("id", drop=False)


def parse_field_sources(text: str | None) -> tuple[dict[str, list[str]], list[str]]:
    """Parse ``field=src1,src2; field2,field3=src3``.

    Returns
    -------
    tuple
        The source ids of each field named, and the parts that could not be parsed.
    """
    out: dict[str, list[str]] = {}
    bad: list[str] = []
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        sids = [s.strip() for s in value.split(",") if s.strip()]
        if not sep or not name.strip() or not sids:
            bad.append(part)
            continue
        for field_name in name.split(","):
            out.setdefault(field_name.strip(), []).extend(sids)
    return out, bad
