"""The stack object of the Python API (ZenML 0.x's ``Stack``): a name and its components.

Building one checks it with the same rule the CLI and the compiler use
(``rules.check_stack``): the three mandatory components are there and each
component sits in the slot of its own type.
"""

from __future__ import annotations

from collections.abc import Mapping

from stackctl import model, rules
from stackctl.alerters import BaseAlerter
from stackctl.artifact_stores import BaseArtifactStore
from stackctl.container_registries import BaseContainerRegistry
from stackctl.data_validators import BaseDataValidator
from stackctl.experiment_trackers import BaseExperimentTracker
from stackctl.feature_stores import BaseFeatureStore
from stackctl.metadata_stores import BaseMetadataStore
from stackctl.model import ComponentType, check_name
from stackctl.model_deployers import BaseModelDeployer
from stackctl.orchestrators import BaseOrchestrator
from stackctl.secrets_managers import BaseSecretsManager
from stackctl.stack_components import CustomFlavors, StackComponent
from stackctl.step_operators import BaseStepOperator


class Stack:
    """A named set of stack components, one per type."""

    def __init__(
        self,
        name: str,
        orchestrator: BaseOrchestrator,
        metadata_store: BaseMetadataStore,
        artifact_store: BaseArtifactStore,
        container_registry: BaseContainerRegistry | None = None,
        step_operator: BaseStepOperator | None = None,
        secrets_manager: BaseSecretsManager | None = None,
        feature_store: BaseFeatureStore | None = None,
        model_deployer: BaseModelDeployer | None = None,
        experiment_tracker: BaseExperimentTracker | None = None,
        alerter: BaseAlerter | None = None,
        data_validator: BaseDataValidator | None = None,
    ) -> None:
        slots: dict[ComponentType, StackComponent | None] = {
            ComponentType.ORCHESTRATOR: orchestrator,
            ComponentType.METADATA_STORE: metadata_store,
            ComponentType.ARTIFACT_STORE: artifact_store,
            ComponentType.CONTAINER_REGISTRY: container_registry,
            ComponentType.STEP_OPERATOR: step_operator,
            ComponentType.SECRETS_MANAGER: secrets_manager,
            ComponentType.FEATURE_STORE: feature_store,
            ComponentType.MODEL_DEPLOYER: model_deployer,
            ComponentType.EXPERIMENT_TRACKER: experiment_tracker,
            ComponentType.ALERTER: alerter,
            ComponentType.DATA_VALIDATOR: data_validator,
        }
        self._assign(name, {t: c for t, c in slots.items() if c is not None})

    def _assign(self, name: str, components: Mapping[ComponentType, StackComponent]) -> None:
        check_name("stack", name)
        for component in components.values():
            if not isinstance(component, StackComponent):
                raise TypeError(f"Stack '{name}' takes stack component objects, "
                                f"not {type(component).__name__}.")
        self._name = name
        self._components = {t: components[t] for t in ComponentType if t in components}
        # the one stack rule: mandatory types present, each component in its own type's slot
        loose = model.ProfileState(
            components={(c.type, c.name): c.to_model() for c in components.values()}, stacks={})
        rules.check_stack(self.to_model(), loose)

    @classmethod
    def from_components(cls, name: str,
                        components: Mapping[ComponentType, StackComponent]) -> Stack:
        """ZenML's ``Stack.from_components``: components keyed by their type."""
        stack = cls.__new__(cls)
        stack._assign(name, components)
        return stack

    @classmethod
    def from_model(cls, stack: model.Stack, state: model.ProfileState,
                   custom: CustomFlavors | None = None) -> Stack:
        """The object for a registered stack, its components read from ``state``."""
        found: dict[ComponentType, StackComponent] = {}
        for ctype, cname in stack.components.items():
            component = state.component(ctype, cname)
            if component is not None:
                found[ctype] = StackComponent.from_model(component, custom)
        return cls.from_components(stack.name, found)

    def to_model(self) -> model.Stack:
        return model.Stack(self._name, {t: c.name for t, c in self._components.items()})

    @property
    def name(self) -> str:
        return self._name

    @property
    def components(self) -> dict[ComponentType, StackComponent]:
        """Component type → component, in ZenML's order (orchestrator first)."""
        return dict(self._components)

    def _slot(self, ctype: ComponentType) -> StackComponent | None:
        return self._components.get(ctype)

    @property
    def orchestrator(self) -> StackComponent:
        return self._components[ComponentType.ORCHESTRATOR]

    @property
    def metadata_store(self) -> StackComponent:
        return self._components[ComponentType.METADATA_STORE]

    @property
    def artifact_store(self) -> StackComponent:
        return self._components[ComponentType.ARTIFACT_STORE]

    @property
    def container_registry(self) -> StackComponent | None:
        return self._slot(ComponentType.CONTAINER_REGISTRY)

    @property
    def step_operator(self) -> StackComponent | None:
        return self._slot(ComponentType.STEP_OPERATOR)

    @property
    def secrets_manager(self) -> StackComponent | None:
        return self._slot(ComponentType.SECRETS_MANAGER)

    @property
    def feature_store(self) -> StackComponent | None:
        return self._slot(ComponentType.FEATURE_STORE)

    @property
    def model_deployer(self) -> StackComponent | None:
        return self._slot(ComponentType.MODEL_DEPLOYER)

    @property
    def experiment_tracker(self) -> StackComponent | None:
        return self._slot(ComponentType.EXPERIMENT_TRACKER)

    @property
    def alerter(self) -> StackComponent | None:
        return self._slot(ComponentType.ALERTER)

    @property
    def data_validator(self) -> StackComponent | None:
        return self._slot(ComponentType.DATA_VALIDATOR)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stack):
            return NotImplemented
        return (self._name, self._components) == (other._name, other._components)

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        parts = ", ".join(f"{t.value}={c.name!r}" for t, c in self._components.items())
        return f"Stack(name={self._name!r}, {parts})"
