"""Diagnostics: located problems found in manifests, as values."""

from __future__ import annotations

from dataclasses import dataclass

from stackctl.errors import Location, StackctlError


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    rule: str
    message: str
    hint: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule)

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message} [{self.rule}]"

    @classmethod
    def from_error(cls, exc: StackctlError, fallback_path: str) -> Diagnostic:
        rule = getattr(exc, "rule", "error")
        return cls(exc.location or Location(fallback_path), rule, exc.message, exc.hint)


class CompileError(StackctlError):
    """Manifests have problems; ``diagnostics`` lists them all, sorted."""

    rule = "invalid-manifests"

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        first = self.diagnostics[0]
        more = len(self.diagnostics) - 1
        summary = f"{first}" + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")
        # one problem: its own hint says what to do; several: validate lists them all
        hint = first.hint if not more and first.hint else \
            "Run `stackctl validate` to see every problem."
        super().__init__(summary, hint=hint)
