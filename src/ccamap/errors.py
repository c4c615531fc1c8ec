"""The ccamap error hierarchy: every message names where, what was expected and what was found."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccamap.report import Report

__all__ = ["CcamapError", "ExportError", "LoadError", "UnsafeOutputError", "UnsafeSourceError",
           "UsageError", "ValidationError"]


class CcamapError(Exception):
    """Base class of every error ccamap raises on purpose."""


class LoadError(CcamapError):
    """A file could not be read or parsed.

    Parameters
    ----------
    path
        The file that failed.
    expected, found
        What the reader expected and what it found there.
    line, column
        Where in the file it failed, when known (1-based).
    code
        A stable machine-readable code (see the README).
    hint
        How to fix it, when there is a likely fix.
    """

    def __init__(
        self,
        path: str,
        expected: str,
        found: str,
        *,
        line: int | None = None,
        column: int | None = None,
        code: str = "load",
        hint: str = "",
    ) -> None:
        self.path = path
        self.expected = expected
        self.found = found
        self.line = line
        self.column = column
        self.code = code
        self.hint = hint
        self.reason = f"expected {expected}, found {found}" + (f" ({hint})" if hint else "")
        where = path if line is None else f"{path}:{line}:{column}"
        super().__init__(f"{where}: {self.reason}")


class ValidationError(CcamapError):
    """Validation found errors; ``report`` holds every problem."""

    def __init__(self, report: Report) -> None:
        self.report = report
        n = len(report.errors)
        super().__init__(f"validation failed with {n} error{'s' if n != 1 else ''}:\n"
                         + report.format(min_severity="error"))


class UsageError(CcamapError):
    """An argument names something that does not exist (a layer, a format)."""


class ExportError(CcamapError):
    """An export could not be written."""


class UnsafeOutputError(CcamapError):
    """An output location would overwrite or replace the source data (or lies inside it)."""


class UnsafeSourceError(CcamapError):
    """A file given to ``ccamap import`` would make GDAL reach the network (a URL, a VRT…)."""
