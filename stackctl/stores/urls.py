"""Store URLs: parsing the type, hiding passwords, reading them from env vars."""

from __future__ import annotations

import re

# Up to the LAST '@': a password may hold an unescaped '@', '/', '?' or '#', and all of
# it must go (a host or port after a first '@' may be hidden too: better than a leak).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/?#]*):"
                       r"(?P<pw>.*)@", re.DOTALL)
_QUERY_SECRET = re.compile(r"(?i)([?&;](?:password|passwd|pwd|secret|token|sslpassword)=)"
                           r"[^&;#]*")


def redact_url(url: str) -> str:
    """Hide every password in a URL a user can type: ``scheme://user:password@host`` (the
    password may contain unescaped ``@``), and ``?password=`` style query parameters."""
    url = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url, count=1)
    return _QUERY_SECRET.sub(lambda m: f"{m[1]}***", url)


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
