"""English for names in help and messages: "an artifact store", "container registries"."""

from __future__ import annotations


def plural(noun: str) -> str:
    """``container registry`` → ``container registries``; ``alerter`` → ``alerters``."""
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def a(noun: str) -> str:
    """``artifact store`` → ``an artifact store``."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
