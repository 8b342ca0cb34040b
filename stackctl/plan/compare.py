"""Comparing resources: their views, fingerprints, redaction and field diffs.

A view is the plain dict a resource is compared by: the same shape for the
live and the desired side. ``==`` decides whether anything changed; DeepDiff
runs only on the few views that differ, to name the fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from functools import cache
from typing import Any

from stackctl import flavors
from stackctl.fingerprint import fingerprint
from stackctl.model import Component, ComponentType, CustomFlavor, ProfileConfig, Stack
from stackctl.plan.model import FieldChange
from stackctl.stores.urls import redact_url

ABSENT = "(absent)"


def component_view(comp: Component) -> dict[str, Any]:
    # the component's own config, not a copy (one per resource and side of a plan):
    # views are never changed
    config = comp.config
    return {"flavor": comp.flavor, "config": config if type(config) is dict else dict(config)}


def stack_view(stack: Stack) -> dict[str, Any]:
    return {"components": {t.value: n for t, n in sorted(stack.components.items())}}


def flavor_view(flavor: CustomFlavor) -> dict[str, Any]:
    return {"source": flavor.source, "configSchema": dict(flavor.config_schema)}


def profile_view(profile: ProfileConfig) -> dict[str, Any]:
    return {"store_type": profile.store_type, "store_url": profile.store_url,
            "active_stack": profile.active_stack}


def sensitive_paths(ctype: ComponentType, flavor_names: list[str],
                    custom: Mapping[Any, CustomFlavor] | None = None
                    ) -> AbstractSet[tuple[str, ...]]:
    """Paths in a component view whose values must never be shown."""
    if custom and any((ctype, name) in custom for name in flavor_names):
        return {("config", f) for name in flavor_names
                for f in flavors.sensitive_fields(ctype, name, custom)}
    return _builtin_sensitive_paths(ctype, tuple(flavor_names))


@cache  # built-in flavors never change: once per (type, flavors), not per component
def _builtin_sensitive_paths(ctype: ComponentType,
                             flavor_names: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(("config", f) for name in flavor_names
                     for f in flavors.sensitive_fields(ctype, name))


def _nothing_set(config: Any, hidden: AbstractSet[tuple[str, ...]]) -> bool:
    """No secret field of the config holds a value (``flavors.hidden`` shows them as they are)."""
    return not isinstance(config, Mapping) or all(
        config.get(path[1]) in (None, "") for path in hidden if path[0] == "config")


def redact_view(view: Mapping[str, Any] | None,
                hidden: AbstractSet[tuple[str, ...]]) -> dict[str, Any] | None:
    if view is None:
        return None
    if "store_url" not in view and type(view) is dict and (not hidden or _nothing_set(
            view.get("config"), hidden)):
        return view  # nothing to redact: the view itself (views are never changed)
    out: dict[str, Any] = {}
    for key, value in view.items():
        if isinstance(value, Mapping) and key == "config":
            out[key] = {k: (flavors.hidden(v) if (key, k) in hidden else v)
                        for k, v in value.items()}
        elif key == "store_url" and isinstance(value, str):
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out


def field_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                  hidden: AbstractSet[tuple[str, ...]]) -> tuple[FieldChange, ...]:
    """Field-level differences, ``path: old → new``, secrets as (sensitive)."""
    from deepdiff import DeepDiff

    diff = DeepDiff(old or {}, new or {}, view="tree", ignore_order=False)
    changes: list[FieldChange] = []
    for report in diff.values():
        for level in report:
            path = tuple(str(p) for p in level.path(output_format="list"))
            old_value = _shown(level.t1, path, hidden)
            new_value = _shown(level.t2, path, hidden)
            changes.append(FieldChange(".".join(path), old_value, new_value))
    return tuple(sorted(changes, key=lambda c: c.path))


def _shown(value: Any, path: tuple[str, ...], hidden: AbstractSet[tuple[str, ...]]) -> Any:
    if type(value).__name__ == "NotPresent":
        return ABSENT
    if any(path[: len(h)] == h for h in hidden):
        return flavors.hidden(value)
    if path and path[-1] == "store_url" and isinstance(value, str):
        return redact_url(value)
    return value


def print_of(view: Mapping[str, Any] | None) -> str | None:
    return None if view is None else fingerprint(view)


def salted_print(salt: str, view: Mapping[str, Any] | None) -> str:
    return fingerprint({"salt": salt, "view": view})


class SaltedPrints(Mapping[str, str]):
    """address -> ``salted_print`` of its view, each computed when first read: only a
    saved plan and its check need them, and an apply of 10,000 new objects without a
    plan file would otherwise encode every view once more for nothing (~5% of it)."""

    def __init__(self, salt: str, views: Mapping[str, Mapping[str, Any] | None]) -> None:
        self._salt = salt
        self._views = views  # views are never changed (see component_view)
        self._prints: dict[str, str] = {}

    def __getitem__(self, address: str) -> str:
        found = self._prints.get(address)
        if found is None:
            found = self._prints[address] = salted_print(self._salt, self._views[address])
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)
