"""Stack component objects of the Python API (ZenML 0.x's ``StackComponent``).

A component object is a validated ``model.Component`` with ZenML's face:
``LocalArtifactStore(name="local", path="/tmp/a")`` checks its config against
the flavor's schema through ``operations.components.build`` (the CLI's check,
word for word) and shows each config field as an attribute (``.path``).
The flavor classes live in ZenML's packages (``stackctl.orchestrators``, …);
``component_class`` finds or makes the class for any type and flavor.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

from stackctl import flavors
from stackctl.errors import NotFoundError
from stackctl.model import Component, ComponentType, CustomFlavor

CustomFlavors = Mapping[tuple[ComponentType, str], CustomFlavor]

_CLASSES: dict[tuple[ComponentType, str], type[StackComponent]] = {}


class StackComponent:
    """Base of every component class; a subclass sets ``TYPE`` and ``FLAVOR``."""

    TYPE: ClassVar[ComponentType]
    FLAVOR: ClassVar[str]
    # set on classes made for a profile's custom flavor
    CUSTOM_FLAVOR: ClassVar[CustomFlavor | None] = None

    _model: Component

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "FLAVOR" in cls.__dict__ and cls.CUSTOM_FLAVOR is None:
            _CLASSES.setdefault((cls.TYPE, cls.FLAVOR), cls)

    def __init__(self, name: str, *, uuid: object = None, **config: Any) -> None:
        from stackctl.operations import components

        if not hasattr(type(self), "FLAVOR"):
            raise TypeError(f"{type(self).__name__} has no flavor; use a flavor's class, e.g. "
                            "stackctl.orchestrators.LocalOrchestrator, or component_class().")
        model = components.build(self.TYPE, name, self.FLAVOR, config, self._custom_flavors(),
                                 uuid=str(uuid) if uuid else None)
        object.__setattr__(self, "_model", model)

    @classmethod
    def _custom_flavors(cls) -> CustomFlavors | None:
        custom = cls.CUSTOM_FLAVOR
        return {(custom.type, custom.name): custom} if custom else None

    # -- the model ----------------------------------------------------------------

    @classmethod
    def from_model(cls, component: Component,
                   custom: CustomFlavors | None = None) -> StackComponent:
        """The object for a stored component, as stored (it is not validated again)."""
        klass = component_class(component.type, component.flavor, custom)
        obj = klass.__new__(klass)
        object.__setattr__(obj, "_model", component)
        return obj

    def to_model(self) -> Component:
        return self._model

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def uuid(self) -> str:
        return self._model.uuid

    @property
    def type(self) -> ComponentType:
        return self._model.type

    @property
    def flavor(self) -> str:
        return self._model.flavor

    @property
    def config(self) -> dict[str, Any]:
        """The flavor's fields, defaults filled in (a copy)."""
        return dict(self._model.config)

    # -- config fields as attributes ---------------------------------------------------

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        config = self._model.config
        if key in config:
            return config[key]
        if key in self._schema_fields():
            return None
        raise AttributeError(f"{type(self).__name__} has no attribute or config field '{key}'")

    def __setattr__(self, key: str, value: object) -> None:
        """Changing a config field validates the new config, as the CLI's update does."""
        from stackctl.operations import components

        if key not in self._schema_fields():
            raise AttributeError(f"{type(self).__name__}.{key} cannot be set; config fields: "
                                 f"{', '.join(sorted(self._schema_fields())) or '(none)'}")
        model = self._model
        changed = components.build(model.type, model.name, model.flavor,
                                   {**dict(model.config), key: value}, self._custom_flavors(),
                                   uuid=model.uuid, action="updating")
        object.__setattr__(self, "_model", changed)

    def _schema_fields(self) -> frozenset[str]:
        try:
            flavor = flavors.get(self._model.type, self._model.flavor, self._custom_flavors())
        except NotFoundError:
            return frozenset(self._model.config)
        return frozenset(flavor.properties)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StackComponent):
            return NotImplemented
        return self._model == other._model

    def __hash__(self) -> int:
        return hash((self._model.type, self._model.name, self._model.uuid))

    def __repr__(self) -> str:
        try:
            flavor: flavors.Flavor | None = flavors.get(
                self._model.type, self._model.flavor, self._custom_flavors())
        except NotFoundError:
            flavor = None
        shown = flavors.redact(flavor, self._model.config)
        fields = "".join(f", {k}={v!r}" for k, v in sorted(shown.items()))
        return f"{type(self).__name__}(name={self.name!r}{fields}, uuid={self.uuid!r})"


# The module holding each type's classes, at ZenML 0.10's import paths.
_MODULES: dict[ComponentType, str] = {
    ComponentType.ORCHESTRATOR: "stackctl.orchestrators",
    ComponentType.METADATA_STORE: "stackctl.metadata_stores",
    ComponentType.ARTIFACT_STORE: "stackctl.artifact_stores",
    ComponentType.CONTAINER_REGISTRY: "stackctl.container_registries",
    ComponentType.STEP_OPERATOR: "stackctl.step_operators",
    ComponentType.SECRETS_MANAGER: "stackctl.secrets_managers",
    ComponentType.FEATURE_STORE: "stackctl.feature_stores",
    ComponentType.MODEL_DEPLOYER: "stackctl.model_deployers",
    ComponentType.EXPERIMENT_TRACKER: "stackctl.experiment_trackers",
    ComponentType.ALERTER: "stackctl.alerters",
    ComponentType.DATA_VALIDATOR: "stackctl.data_validators",
}


def component_class(component_type: ComponentType | str, flavor: str,
                    custom: CustomFlavors | None = None) -> type[StackComponent]:
    """The class for a type and flavor: a built-in one, or one made for a custom flavor.

    An unknown flavor raises NotFoundError with the CLI's message (the flavors available).
    """
    ctype = ComponentType.parse(component_type) if isinstance(component_type, str) \
        else component_type
    if (ctype, flavor) not in _CLASSES:
        importlib.import_module(_MODULES[ctype])  # defines the built-in classes
    if (ctype, flavor) in _CLASSES:
        return _CLASSES[(ctype, flavor)]
    found = flavors.get(ctype, flavor, custom)  # NotFoundError naming the available flavors
    base = base_class(ctype)
    name = "".join(part.title() for part in found.name.replace("-", "_").split("_"))
    made: type[StackComponent] = type(f"{name}{base.__name__.removeprefix('Base')}", (base,), {
        "FLAVOR": found.name,
        "CUSTOM_FLAVOR": None if found.builtin else (custom or {})[(ctype, flavor)],
        "__module__": __name__,
    })
    return made


def base_class(component_type: ComponentType) -> type[StackComponent]:
    """``BaseOrchestrator``, ``BaseArtifactStore``, … from the type's module."""
    module = importlib.import_module(_MODULES[component_type])
    words = "".join(w.title() for w in component_type.value.split("_"))
    base = getattr(module, f"Base{words}")
    assert isinstance(base, type)
    assert issubclass(base, StackComponent)
    return base
