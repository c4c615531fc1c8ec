"""Problems found in the data, gathered into one report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from ccamap.rules import Rule, Severity

__all__ = ["Problem", "Progress", "Report", "Severity"]

#: Told of progress: ``(stage, done, total)``. :func:`ccamap.validate.validate` names the step
#: just finished (``"railways: geometry"``); :func:`ccamap.pipeline.build` names its stage
#: (``validate``, ``render``, ``export``, ``write``).
Progress = Callable[[str, int, int], None]

_RANK = {"info": 0, "warning": 1, "error": 2}
#: Characters ``json.dumps(ensure_ascii=False)`` leaves raw that a terminal may act on.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Problem:
    """One problem: where it is, what was expected and what was found.

    Parameters
    ----------
    severity
        ``error`` (the data is wrong), ``warning`` (suspicious or repaired), ``info`` (a note).
    file
        The file, as given to the loader.
    feature_id
        The feature's id, or empty when the problem is about the whole file.
    field
        The attribute or member concerned (``geometry`` for geometry problems).
    code
        A stable machine-readable code: a rule of :mod:`ccamap.rules`.
    expected, found
        What should be there and what is there.
    message
        A one-line human explanation.
    """

    severity: Severity
    file: str
    feature_id: str
    field: str
    code: str
    expected: str
    found: str
    message: str

    def format(self) -> str:
        """Return the problem as one line of text."""
        where = self.file
        if self.feature_id:
            where += f" [{self.feature_id}]"
        if self.field:
            where += f" {self.field}"
        return (f"{self.severity}: {where}: {self.message} "
                f"(expected {self.expected}, found {self.found}) [{self.code}]")


@dataclass
class Report:
    """All problems found by one validation run."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        rule: Rule,
        *,
        file: object,
        feature_id: object = "",
        field: str = "",
        expected: object,
        found: object,
        message: str,
    ) -> None:
        """Record one problem of ``rule`` (a rule of :mod:`ccamap.rules`; it sets the severity).

        Parameters
        ----------
        rule
            The problem's rule: its code and severity.
        file, feature_id, field
            Where the problem is (``feature_id`` and ``field`` empty for a whole file).
        expected, found
            What should be there and what is there (``None`` is written as nothing).
        message
            A one-line human explanation.
        """
        self.problems.append(
            Problem(rule.severity, str(file), _text(feature_id), field, rule.code,
                    _text(expected), _text(found), message)
        )

    def extend(self, other: Report) -> None:
        """Append the problems of ``other``."""
        self.problems.extend(other.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems of severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]

    def codes(self) -> list[str]:
        """Return the codes of every problem, in order."""
        return [p.code for p in self.problems]

    def failed(self, *, strict: bool = False) -> bool:
        """Whether there is an error (or, with ``strict``, a warning)."""
        return bool(self.errors or (strict and self.warnings))

    def format(self, *, min_severity: Severity = "info") -> str:
        """Return every problem at or above ``min_severity``, one per line."""
        floor = _RANK[min_severity]
        return "\n".join(p.format() for p in self.problems if _RANK[p.severity] >= floor)

    def to_json(self) -> str:
        r"""Return the report as a JSON document (``{"problems": [...], "summary": {...}}``).

        Text stays readable (no ASCII escaping), except the characters that can control a
        terminal (C0 and C1 controls, DEL, bidirectional controls, line separators): those
        are written as ``\uNNNN`` escapes, so the document is safe to print and decodes to
        exactly the same strings.
        """
        summary = {s: sum(p.severity == s for p in self.problems) for s in _RANK}
        doc = {"summary": summary, "problems": [asdict(p) for p in self.problems]}
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return "NaN"
    return str(value)
