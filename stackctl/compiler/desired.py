"""The desired state: what the manifests say the live configuration should be.

Built from schema-valid documents; each resource remembers the document that
declared it, so semantic problems point at a file, line and column.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl.compiler.load import Document
from stackctl.compiler.moved import Move
from stackctl.model import (
    Address,
    Component,
    ComponentType,
    CustomFlavor,
    ProfileState,
    Stack,
    component_address,
    flavor_address,
    profile_address,
    stack_address,
)


@dataclass(frozen=True)
class DesiredProfileSettings:
    store_type: str = "local"
    store_url: str | None = None  # None: the default location for its type
    url_from_env: str | None = None
    active_stack: str | None = None
    drift_mode: str | None = None  # spec.driftMode: overrides the project's (plan.drift_mode)

    @property
    def url(self) -> str | None:
        """The URL as a profile stores it (``env:VAR`` for one read from the environment)."""
        from stackctl.stores.urls import env_url

        return env_url(self.url_from_env) if self.url_from_env else self.store_url


@dataclass
class DesiredProfile:
    name: str
    settings: DesiredProfileSettings | None = None  # None: no Profile manifest
    components: dict[tuple[ComponentType, str], Component] = field(default_factory=dict)
    stacks: dict[str, Stack] = field(default_factory=dict)
    flavors: dict[tuple[ComponentType, str], CustomFlavor] = field(default_factory=dict)
    # declared ``external: true``: they exist live, managed elsewhere; never changed
    external: bool = False  # the profile itself
    external_components: set[tuple[ComponentType, str]] = field(default_factory=set)
    external_stacks: set[str] = field(default_factory=set)

    @property
    def declared(self) -> bool:
        """Declared by a Profile manifest, managed here or external."""
        return self.settings is not None or self.external

    def state(self) -> ProfileState:
        return ProfileState(components=self.components, stacks=self.stacks, flavors=self.flavors)


@dataclass(frozen=True)
class DesiredRepository:
    path: Path
    active_profile: str | None
    active_stack: str | None


@dataclass
class DesiredState:
    profiles: dict[str, DesiredProfile] = field(default_factory=dict)
    repositories: dict[str, DesiredRepository] = field(default_factory=dict)
    active_profile: str | None = None  # from a GlobalConfig manifest
    # address -> the document that declared it
    sources: dict[str, Document] = field(default_factory=dict)
    # the project file's ``name``: recorded as the owner of what is applied
    owner: str | None = None
    moves: tuple[Move, ...] = ()  # the project file's ``moved:`` renames

    def release_documents(self) -> None:
        """Keep of each source document only where it is (``Document.located_only``):
        its values live on in the desired objects, and the parsed manifests are most of
        a compile's memory. Not with Policy manifests: their rules read every
        resource's manifest (``object``), in `validate` and again in `plan`."""
        if any(address.startswith("policy/") for address in self.sources):
            return
        sources = self.sources
        for address, doc in sources.items():
            sources[address] = doc.located_only()

    def profile(self, name: str) -> DesiredProfile:
        if name not in self.profiles:
            self.profiles[name] = DesiredProfile(name)
        return self.profiles[name]


def address_of(doc: Document, default_profile: str) -> str:
    """The address a schema-valid document declares."""
    data = doc.data
    kind, name = data["kind"], data["metadata"]["name"]
    spec = data.get("spec") or {}
    profile = data["metadata"].get("profile") or default_profile
    if kind == "Component":
        return component_address(profile, ComponentType(spec["type"]), name)
    if kind == "Stack":
        return stack_address(profile, name)
    if kind == "Flavor":
        return flavor_address(profile, ComponentType(spec["type"]), name)
    if kind == "Profile":
        return profile_address(name)
    if kind == "Policy":
        return f"policy/{name}"
    if kind == "Repository":
        return str(Address.repository(str(repository_path(doc))))
    return "global"


def repository_path(doc: Document) -> Path:
    spec = doc.data.get("spec") or {}
    return (doc.path.parent / str(spec.get("path", "."))).resolve()


def add_document(state: DesiredState, doc: Document, default_profile: str,
                 config: dict[str, Any] | None = None) -> None:
    """Add one schema-valid document (``config`` = its config with defaults)."""
    data = doc.data
    kind, name = data["kind"], data["metadata"]["name"]
    spec: dict[str, Any] = data.get("spec") or {}
    profile_name = data["metadata"].get("profile") or default_profile
    state.sources[address_of(doc, default_profile)] = doc
    if spec.get("external") is True:
        _add_external(state.profile(profile_name if kind != "Profile" else name), kind, spec,
                      name)
    elif kind == "Component":
        ctype = ComponentType(spec["type"])
        state.profile(profile_name).components[(ctype, name)] = Component(
            type=ctype, name=name, flavor=sys.intern(spec["flavor"]), uuid="",  # a few flavors
            config=config if config is not None else dict(spec.get("config") or {}))
    elif kind == "Stack":
        state.profile(profile_name).stacks[name] = Stack(
            name=name, components={ComponentType(t): c for t, c in spec["components"].items()})
    elif kind == "Flavor":
        ctype = ComponentType(spec["type"])
        state.profile(profile_name).flavors[(ctype, name)] = CustomFlavor(
            type=ctype, name=name, source=spec["source"], config_schema=spec["configSchema"])
    elif kind == "Profile":
        store = spec.get("store") or {"type": "local"}
        state.profile(name).settings = DesiredProfileSettings(
            store_type=store.get("type", "local"), store_url=store.get("url"),
            url_from_env=store.get("urlFromEnv"), active_stack=spec.get("activeStack"),
            drift_mode=spec.get("driftMode"))
    elif kind == "Repository":
        path = repository_path(doc)
        state.repositories[str(path)] = DesiredRepository(
            path=path, active_profile=spec.get("activeProfile"),
            active_stack=spec.get("activeStack"))
    elif kind == "GlobalConfig":
        state.active_profile = spec.get("activeProfile")


def _add_external(profile: DesiredProfile, kind: str, spec: dict[str, Any], name: str) -> None:
    if kind == "Component":
        profile.external_components.add((ComponentType(spec["type"]), name))
    elif kind == "Stack":
        profile.external_stacks.add(name)
    else:
        profile.external = True
