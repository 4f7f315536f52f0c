"""Findings and validation reports: a bottom line plus what was checked, never a bare bool."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "BR-CO-15", "XSD", "SIRET"
    severity: Severity
    message: str
    location: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Finding:
        return cls(d["rule"], Severity(d["severity"]), d["message"], d.get("location"))


BLOCKING = (Severity.FATAL, Severity.ERROR)


@dataclass(frozen=True)
class Report:
    """The verdict of a validation run. ``valid`` is only true if every check in ``checked`` ran and
    none raised a blocking finding; a check that could not run is listed in ``not_checked``."""

    checked: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    not_checked: tuple[str, ...] = ()
    syntax: str | None = None  # "CII" | "UBL"
    flavor: str | None = None  # "factur-x" | "zugferd" | "xrechnung" | "ubl" | "cii"
    profile: str | None = None  # "MINIMUM" | "BASIC WL" | "BASIC" | "EN16931" | "EXTENDED" | ...
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        if self.not_checked or not self.checked:
            return False
        return not any(f.severity in BLOCKING for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checked": list(self.checked),
            "not_checked": list(self.not_checked),
            "syntax": self.syntax,
            "flavor": self.flavor,
            "profile": self.profile,
            "findings": [f.to_json() for f in self.findings],
        }
