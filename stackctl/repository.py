"""The ``Repository`` of the Python API (ZenML 0.x's), thin over the core.

It finds the repository as the CLI does (an explicit root, else
``$STACKCTL_REPOSITORY_PATH`` / ``$ZENML_REPOSITORY_PATH``, else the current
directory and its parents) once, when it is made; everything else — the
active profile and stack, registering, activating, deleting — goes through
``stackctl.workspace`` and ``stackctl.operations``, so Python and the CLI
follow the same rules and print the same messages (on stderr).
"""

from __future__ import annotations

import logging
from pathlib import Path

from stackctl.config import repository as repo_config
from stackctl.errors import NotFoundError
from stackctl.logs import setup_logging
from stackctl.model import ComponentType, ProfileConfig
from stackctl.stack import Stack
from stackctl.stack_components import StackComponent
from stackctl.workspace import Workspace

log = logging.getLogger("stackctl")


def _component_type(component_type: ComponentType | str) -> ComponentType:
    if isinstance(component_type, ComponentType):
        return component_type
    return ComponentType.parse(component_type)


class Repository:
    """The active profile and stack here, and the stacks and components of the profile."""

    def __init__(self, root: Path | str | None = None) -> None:
        setup_logging(keep_existing=True)
        discovery = repo_config.discover(explicit=root)
        explicit = root is not None or repo_config.env_repository_path() is not None
        if discovery.repository is None and discovery.warning and explicit:
            # a path was given and is no repository; a script merely run outside one is normal
            log.warning(discovery.warning)
        self._root = discovery.repository.root if discovery.repository else None

    def _workspace(self) -> Workspace:
        # read afresh each time: the CLI or another Repository may have changed the settings
        settings = repo_config.read(self._root) if self._root is not None else None
        ws = Workspace(discovery=repo_config.Discovery(settings, None))
        ws.start()  # ZenML's first use, as the CLI does before any command
        return ws

    # -- where we are -------------------------------------------------------------

    @property
    def root(self) -> Path | None:
        """The repository root, or None when running outside a repository."""
        return self._root

    @staticmethod
    def is_repository_directory(path: Path | str) -> bool:
        return repo_config.is_repository(Path(path))

    @staticmethod
    def initialize(root: Path | str | None = None) -> None:
        """Make ``root`` (default: the current directory) a repository, like `stackctl init`."""
        from stackctl.operations import repositories

        setup_logging(keep_existing=True)
        path = Path(root or Path.cwd()).resolve()
        repositories.initialize(Workspace(cwd=path), path)

    # -- active profile and stack -----------------------------------------------

    @property
    def active_profile(self) -> ProfileConfig:
        return self._workspace().profile()

    @property
    def active_profile_name(self) -> str:
        return self._workspace().active().profile

    @property
    def active_stack_name(self) -> str | None:
        return self._workspace().active().stack

    @property
    def active_stack(self) -> Stack:
        ws = self._workspace()
        active = ws.active()
        if not active.stack:
            raise NotFoundError(f"Profile '{active.profile}' has no active stack.",
                                hint="Activate one with Repository().activate_stack(NAME).")
        return self._stack(ws, active.stack, active.profile)

    def activate_stack(self, name: str) -> None:
        """Inside a repository set its local active stack, else the profile's: `stack set`."""
        from stackctl.operations import stacks

        stacks.activate(self._workspace(), name, announce=False)

    def activate_profile(self, name: str) -> None:
        """Inside a repository set its local active profile, else the global one."""
        from stackctl.operations import profiles

        profiles.activate(self._workspace(), name, announce=False)

    # -- stacks ---------------------------------------------------------------------

    @property
    def stacks(self) -> list[Stack]:
        ws = self._workspace()
        profile = ws.active().profile
        state = ws.state(profile)
        return [Stack.from_model(state.stacks[n], state, state.flavors)
                for n in sorted(state.stacks)]

    @property
    def stack_configurations(self) -> dict[str, dict[ComponentType, str]]:
        """Stack name → {component type → component name}."""
        ws = self._workspace()
        state = ws.state(ws.active().profile)
        return {n: dict(state.stacks[n].components) for n in sorted(state.stacks)}

    def get_stack(self, name: str) -> Stack:
        ws = self._workspace()
        return self._stack(ws, name, ws.active().profile)

    @staticmethod
    def _stack(ws: Workspace, name: str, profile: str) -> Stack:
        from stackctl.operations import stacks

        found = stacks.get(ws, name, profile)
        state = ws.state(profile)
        return Stack.from_model(found, state, state.flavors)

    def register_stack(self, stack: Stack) -> None:
        """Register ``stack`` and those of its components the profile lacks, at once."""
        from stackctl.operations import stacks

        ws = self._workspace()
        model = stack.to_model()
        stacks.register(ws, model.name, model.components, ws.active().profile,
                        new_components=[c.to_model() for c in stack.components.values()])

    def deregister_stack(self, name: str) -> None:
        """Delete a stack (never an active one); its components stay."""
        from stackctl.operations import stacks

        ws = self._workspace()
        stacks.delete(ws, name, ws.active().profile)

    # -- stack components --------------------------------------------------------

    @property
    def stack_components(self) -> list[StackComponent]:
        ws = self._workspace()
        state = ws.state(ws.active().profile)
        return [StackComponent.from_model(state.components[key], state.flavors)
                for key in sorted(state.components)]

    def get_stack_components(self, component_type: ComponentType | str) -> list[StackComponent]:
        ws = self._workspace()
        state = ws.state(ws.active().profile)
        return [StackComponent.from_model(c, state.flavors)
                for c in state.components_of(_component_type(component_type))]

    def get_stack_component(self, component_type: ComponentType | str,
                            name: str) -> StackComponent:
        from stackctl.operations import components

        ws = self._workspace()
        profile = ws.active().profile
        found = components.get(ws, _component_type(component_type), name, profile)
        return StackComponent.from_model(found, ws.state(profile).flavors)

    def register_stack_component(self, component: StackComponent) -> None:
        from stackctl.operations import components

        ws = self._workspace()
        components.register(ws, component.to_model(), ws.active().profile)

    def deregister_stack_component(self, component_type: ComponentType | str,
                                   name: str) -> None:
        """Delete a component (never one a stack uses)."""
        from stackctl.operations import components

        ws = self._workspace()
        components.delete(ws, _component_type(component_type), name, ws.active().profile)

    def __repr__(self) -> str:
        return f"Repository(root={self._root!r})"
