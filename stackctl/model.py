"""What a component, a stack and a profile are: the one place that knows.

Values are frozen dataclasses; every face (CLI, Python API, compiler) and
every store speaks in these. Addresses name resources in plans and errors.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class ComponentType(str, enum.Enum):
    """ZenML 0.x stack component types, in ZenML 0.10's registration order."""

    ORCHESTRATOR = "orchestrator"
    METADATA_STORE = "metadata_store"
    ARTIFACT_STORE = "artifact_store"
    CONTAINER_REGISTRY = "container_registry"
    STEP_OPERATOR = "step_operator"
    SECRETS_MANAGER = "secrets_manager"
    FEATURE_STORE = "feature_store"
    MODEL_DEPLOYER = "model_deployer"
    EXPERIMENT_TRACKER = "experiment_tracker"
    ALERTER = "alerter"
    DATA_VALIDATOR = "data_validator"

    def __str__(self) -> str:
        return self.value

    @property
    def cli_name(self) -> str:
        """Spelling on the command line: ``artifact-store``."""
        return self.value.replace("_", "-")

    @property
    def plural(self) -> str:
        """Directory name in the local store (ZenML's: ``container_registries``)."""
        if self is ComponentType.CONTAINER_REGISTRY:
            return "container_registries"
        return f"{self.value}s"

    @property
    def human(self) -> str:
        """Words for messages: ``artifact store``."""
        return self.value.replace("_", " ")

    @property
    def with_article(self) -> str:
        """``an artifact store``, ``a metadata store``."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.human}"

    @property
    def mandatory(self) -> bool:
        return self in MANDATORY_TYPES

    @classmethod
    def parse(cls, text: str) -> ComponentType:
        """Accept ``artifact_store`` and ``artifact-store``; NotFoundError otherwise."""
        from stackctl.errors import NotFoundError

        key = text.strip().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            valid = ", ".join(t.value for t in cls)
            raise NotFoundError(
                f"Unknown stack component type '{text}'.", hint=f"Valid types: {valid}."
            ) from None


MANDATORY_TYPES = frozenset(
    {ComponentType.ORCHESTRATOR, ComponentType.ARTIFACT_STORE, ComponentType.METADATA_STORE}
)

# Short options of `stack register`, as ZenML 0.10 spelled them.
STACK_OPTION_FLAGS: Mapping[ComponentType, str] = {
    ComponentType.ORCHESTRATOR: "-o",
    ComponentType.METADATA_STORE: "-m",
    ComponentType.ARTIFACT_STORE: "-a",
    ComponentType.CONTAINER_REGISTRY: "-c",
    ComponentType.STEP_OPERATOR: "-s",
    ComponentType.SECRETS_MANAGER: "-x",
    ComponentType.FEATURE_STORE: "-f",
    ComponentType.MODEL_DEPLOYER: "-d",
    ComponentType.EXPERIMENT_TRACKER: "-e",
    ComponentType.ALERTER: "-al",
    ComponentType.DATA_VALIDATOR: "-dv",
}

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # with fullmatch: `$` would allow a final "\n"


def check_name(kind: str, name: str) -> None:
    """Names become file names in the local store: keep them safe."""
    from stackctl.errors import UsageError

    if not name or not _NAME.fullmatch(name) or name in {".", ".."} or len(name) > 200:
        raise UsageError(
            f"Invalid {kind} name {name!r}.",  # repr: a newline shows as \n
            hint="Use letters, digits, '_', '-' and '.', starting with a letter, digit or '_'.",
        )


@dataclass(frozen=True, slots=True)  # one per resource, desired and live
class Component:
    """A registered stack component. ``config`` holds the flavor's fields only."""

    type: ComponentType
    name: str
    flavor: str
    uuid: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[ComponentType, str]:
        return (self.type, self.name)

    def address(self, profile: str) -> str:
        return component_address(profile, self.type, self.name)


@dataclass(frozen=True, slots=True)  # one per resource, desired and live
class Stack:
    """A named selection of one component (by name) per component type."""

    name: str
    components: Mapping[ComponentType, str]

    def address(self, profile: str) -> str:
        return stack_address(profile, self.name)


@dataclass(frozen=True)
class CustomFlavor:
    """A user-declared flavor with the JSON Schema of its config."""

    type: ComponentType
    name: str
    source: str
    config_schema: Mapping[str, Any]


@dataclass(frozen=True)
class ProfileConfig:
    """A profile's entry in the global config (ZenML's ``profiles.<name>``)."""

    name: str
    store_type: str
    store_url: str
    active_stack: str | None = None
    active_user: str = "default"


@dataclass(frozen=True)
class ProfileState:
    """Everything one profile store holds, as one immutable snapshot."""

    components: Mapping[tuple[ComponentType, str], Component]
    stacks: Mapping[str, Stack]
    flavors: Mapping[tuple[ComponentType, str], CustomFlavor] = field(default_factory=dict)

    def component(self, ctype: ComponentType, name: str) -> Component | None:
        return self.components.get((ctype, name))

    def components_of(self, ctype: ComponentType) -> list[Component]:
        return sorted(
            (c for c in self.components.values() if c.type is ctype), key=lambda c: c.name
        )


@dataclass(frozen=True, slots=True)  # one per resource, desired and live
class Address:
    """Where a resource lives, typed: what a plan change, drift or record points at.

    ``str()`` gives the form shown in plans and kept in bookkeeping
    (``prod/orchestrator/k8s``, ``prod/stack/main``, ``profile/prod``, ...);
    code reads the fields, never splits that text back.
    """

    kind: str  # component | stack | flavor | profile | repository | global
    profile: str | None = None  # the profile it lives in (a profile's own name)
    type: ComponentType | None = None  # components and flavors
    name: str = ""  # a repository's path

    @classmethod
    def component(cls, profile: str, ctype: ComponentType, name: str) -> Address:
        return cls("component", profile, ctype, name)

    @classmethod
    def stack(cls, profile: str, name: str) -> Address:
        return cls("stack", profile, None, name)

    @classmethod
    def flavor(cls, profile: str, ctype: ComponentType, name: str) -> Address:
        return cls("flavor", profile, ctype, name)

    @classmethod
    def of_profile(cls, name: str) -> Address:
        return cls("profile", name, None, name)

    @classmethod
    def repository(cls, path: str) -> Address:
        return cls("repository", None, None, path)

    @classmethod
    def global_(cls) -> Address:
        return cls("global")

    @classmethod
    def parse(cls, text: str) -> Address:
        """The inverse of ``str()`` (saved plan files, bookkeeping records).

        Names never hold '/', and a repository path is absolute, so the
        number of parts decides the kind.
        """
        parts = text.split("/")
        if text == "global":
            return cls.global_()
        if parts[0] == "repository" and len(parts) > 2 and parts[1] == "":
            return cls.repository(text.split("/", 1)[1])
        if len(parts) == 2 and parts[0] == "profile":
            return cls.of_profile(parts[1])
        if len(parts) == 3 and parts[1] == "stack":
            return cls.stack(parts[0], parts[2])
        if len(parts) == 3:
            return cls.component(parts[0], ComponentType(parts[1]), parts[2])
        if len(parts) == 4 and parts[1] == "flavor":
            return cls.flavor(parts[0], ComponentType(parts[2]), parts[3])
        raise ValueError(f"not a resource address: {text!r}")

    @property
    def key(self) -> tuple[ComponentType, str]:
        """The (type, name) key of a component or flavor in a ``ProfileState``."""
        assert self.type is not None, self
        return (self.type, self.name)

    @property
    def in_profile(self) -> str:
        """The address inside its profile (``orchestrator/k8s``, ``stack/main``)."""
        if self.kind == "component":
            assert self.type is not None
            return f"{self.type.value}/{self.name}"
        if self.kind == "flavor":
            assert self.type is not None
            return f"flavor/{self.type.value}/{self.name}"
        return f"{self.kind}/{self.name}"

    def __str__(self) -> str:
        if self.kind in ("component", "flavor", "stack"):
            return f"{self.profile}/{self.in_profile}"
        if self.kind == "global":
            return "global"
        return f"{self.kind}/{self.name}"  # profile, repository


def component_address(profile: str, ctype: ComponentType, name: str) -> str:
    return str(Address.component(profile, ctype, name))


def stack_address(profile: str, name: str) -> str:
    return str(Address.stack(profile, name))


def profile_address(name: str) -> str:
    return str(Address.of_profile(name))


def flavor_address(profile: str, ctype: ComponentType, name: str) -> str:
    return str(Address.flavor(profile, ctype, name))
