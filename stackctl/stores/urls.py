"""Store URLs: parsing the type, hiding passwords, reading them from env vars."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/]*):(?P<pw>[^@/]*)@")


def redact_url(url: str) -> str:
    """Replace a password in ``scheme://user:password@host`` with ``***``."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def file_url(path: str) -> str:
    return f"file://{path}"


def path_from_file_url(url: str) -> str:
    return url[len("file://"):] if url.startswith("file://") else url


_ENV = "env:"  # a store URL read from this env var at use, never written anywhere


def env_url(var: str) -> str:
    """The stored form of a URL kept in the env var ``var``."""
    return f"{_ENV}{var}"


def env_var_of(url: str) -> str | None:
    """The env var an ``env:VAR`` URL names; None for a literal URL."""
    return url[len(_ENV):] if url.startswith(_ENV) else None


def url_from_environment(var: str) -> str:
    """A store URL kept in an env var, so it need not be written anywhere."""
    import os

    from stackctl.errors import UsageError

    value = os.environ.get(var)
    if not value:
        raise UsageError(f"Environment variable '{var}' is not set or empty.",
                         hint="Export it with the store URL, e.g. postgresql+psycopg://…")
    return value
