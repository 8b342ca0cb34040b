"""The defaults every profile starts with: its name, and the default stack.

ZenML creates a ``default`` profile on first use, and every new profile with
a ``default`` stack of three ``default`` components. The workspace creates
them, the planner expects them in a new profile, and the compiler treats them
as declared; all three read this one table.
"""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path
from typing import Any

from stackctl.model import Component, ComponentType, ProfileState, Stack

DEFAULT = "default"  # the default profile, and the default stack and components in each

# (type, flavor) of the default stack's components, in the order ZenML registers them
DEFAULT_COMPONENTS: tuple[tuple[ComponentType, str], ...] = (
    (ComponentType.ORCHESTRATOR, "local"),
    (ComponentType.METADATA_STORE, "sqlite"),
    (ComponentType.ARTIFACT_STORE, "local"),
)


def default_state(root: Path) -> ProfileState:
    """The default stack a new profile starts with; local files live under ``root``."""
    art_uuid = str(uuidlib.uuid4())
    local_store = root / "local_stores" / art_uuid
    configs: dict[ComponentType, dict[str, Any]] = {
        ComponentType.METADATA_STORE: {"upgrade_migration_enabled": True,
                                       "uri": str(local_store / "metadata.db")},
        ComponentType.ARTIFACT_STORE: {"path": str(local_store)},
    }
    comps = [Component(ctype, DEFAULT, flavor,
                       art_uuid if ctype is ComponentType.ARTIFACT_STORE
                       else str(uuidlib.uuid4()), configs.get(ctype, {}))
             for ctype, flavor in DEFAULT_COMPONENTS]
    stack = Stack(DEFAULT, {c.type: c.name for c in comps})
    return ProfileState(components={c.key: c for c in comps}, stacks={DEFAULT: stack})


def implicit_state(state: ProfileState) -> ProfileState:
    """``state`` with the default components a profile is created with, where missing."""
    comps = dict(state.components)
    for ctype, flavor in DEFAULT_COMPONENTS:
        comps.setdefault((ctype, DEFAULT), Component(ctype, DEFAULT, flavor, "", {}))
    return ProfileState(components=comps, stacks=state.stacks, flavors=state.flavors)


def is_machine_default(comp: Component, root: Path) -> bool:
    """A default component as a profile is created with it, its files under ``root``.

    Such a component holds paths that only exist on this machine; every new
    profile gets its own, so manifests need not (and should not) declare it.
    """
    if comp.name != DEFAULT or (comp.type, comp.flavor) not in DEFAULT_COMPONENTS:
        return False
    fresh = default_state(root).components[(comp.type, DEFAULT)].config
    if set(fresh) != set(comp.config):
        return False
    local = str(root / "local_stores") + "/"
    for key, value in fresh.items():
        have = comp.config[key]
        if isinstance(value, str) and value.startswith(local):
            if not (isinstance(have, str) and have.startswith(local)):
                return False
        elif have != value:
            return False
    return True


def local_artifact_dirs(state: ProfileState) -> list[Path]:
    """The default artifact store's directory, to be made when the profile is created."""
    comp = state.component(ComponentType.ARTIFACT_STORE, DEFAULT)
    return [Path(str(comp.config["path"]))] if comp and "path" in comp.config else []
