"""The catalogue of broken inputs in ``tests/cases/``.

Each case is a folder of files laid over the tiny valid dataset of ``conftest.geodata``, and an
``expected.txt`` that pins the exact problems validation reports: one line per problem, as
``Problem.format()`` prints it with the data directory shown as ``geodata``. Every error line must
be expected, and every expected line must be reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ccamap.validate import validate

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.txt").exists())


def run_case(name: str, geodata: Path) -> tuple[list[str], list[str]]:
    case = CASES / name
    for item in case.iterdir():
        if item.name not in ("expected.txt", "README"):
            shutil.copy(item, geodata / item.name)
    report, _, _ = validate(geodata)
    lines = [p.format().replace(str(geodata), "geodata") for p in report]
    expected = [ln for ln in (case / "expected.txt").read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    return lines, expected


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name, geodata):
    lines, expected = run_case(name, geodata)
    missing = [ln for ln in expected if ln not in lines]
    assert not missing, f"expected but not reported: {missing}\nreported: {lines}"
    unexpected = [ln for ln in lines if ln.startswith("error:") and ln not in expected]
    assert not unexpected, f"errors not in expected.txt: {unexpected}"


def test_the_catalogue_is_not_empty():
    assert len(CASE_NAMES) >= 15
