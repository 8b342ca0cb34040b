"""The one exception hierarchy: every user-facing failure is a StackctlError.

Each error carries what went wrong (``message``), where (a ``Location`` in a
file) and a ``hint`` on what to do. The CLI catches
``StackctlError`` once, prints it and exits 1; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a file; line and column are 1-based (0 means unknown)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.path}:{self.line}:{self.column}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


class StackctlError(Exception):
    """Root of every error stackctl reports to a user."""

    rule = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigFileError(StackctlError):
    """A configuration or store file is unreadable, corrupt or hand-broken."""

    rule = "config-file"


class NotFoundError(StackctlError):
    """A named profile, stack, component or flavor does not exist."""

    rule = "not-found"


class AlreadyExistsError(StackctlError):
    """Something with that name is already registered."""

    rule = "already-exists"


class IntegrityError(StackctlError):
    """A change would break a stack or remove something still in use."""

    rule = "integrity"


class ConfigValidationError(StackctlError):
    """A component's configuration does not match its flavor's schema."""

    rule = "flavor-config"


class LockError(StackctlError):
    """A store's lock could not be taken within the allowed time."""

    rule = "lock"


class StaleStateError(StackctlError):
    """Live state changed since it was read (a stale saved plan, a race)."""

    rule = "stale"


class StoreError(StackctlError):
    """A store cannot be reached, opened or migrated."""

    rule = "store"


class UsageError(StackctlError):
    """The command was called with options that do not fit together."""

    rule = "usage"


class ManifestError(StackctlError):
    """A manifest cannot be loaded, rendered or validated."""

    rule = "manifest"
