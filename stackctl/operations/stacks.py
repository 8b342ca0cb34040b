"""Stack operations: register, activate, delete, copy, provision (up/down)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stackctl import rules
from stackctl.config import repository as repo_config
from stackctl.errors import AlreadyExistsError, IntegrityError, NotFoundError
from stackctl.model import Component, ComponentType, ProfileState, Stack, check_name
from stackctl.workspace import Workspace

log = logging.getLogger("stackctl")


def _missing_stack(name: str, names: list[str]) -> NotFoundError:
    return NotFoundError(f"Unable to find stack with name '{name}'.",
                         hint=f"Available names: {', '.join(sorted(names)) or '(none)'}.")


def _merge_components(state: ProfileState, wanted: Iterable[Component]) -> tuple[
        list[Component], list[str]]:
    """The wanted components ``state`` lacks; same-named but different ones clash.

    A component already there with the same flavor and config is simply reused.
    Returns (missing, clashes).
    """
    added: list[Component] = []
    clashes: list[str] = []
    for comp in wanted:
        ours = state.component(comp.type, comp.name)
        if ours is None:
            added.append(comp)
        elif (ours.flavor, dict(ours.config)) != (comp.flavor, dict(comp.config)):
            clashes.append(f"{comp.type.value} '{comp.name}'")
    return added, clashes


def register(ws: Workspace, name: str, components: Mapping[ComponentType, str],
             profile: str | None = None, *, new_components: Iterable[Component] = ()) -> Stack:
    """Register a stack; ``new_components`` (Python API) are registered with it, at once."""
    check_name("stack", name)
    stack = Stack(name=name, components=dict(components))
    with ws.store(profile).transaction() as tx:
        if name in tx.before.stacks:
            raise AlreadyExistsError(
                f"Unable to register stack with name '{name}': Found existing stack with "
                "this name.")
        added, clashes = _merge_components(tx.before, new_components)
        if clashes:
            raise AlreadyExistsError(
                f"Unable to register stack '{name}': the profile already has different "
                f"components named {', '.join(clashes)}. Nothing was registered.",
                hint="Use the registered components, or give yours other names.")
        for comp in added:
            tx.put_component(comp)
        rules.check_stack(stack, tx.after)
        tx.put_stack(stack)
    for comp in added:
        log.info("Registered stack component with type '%s' and name '%s'.",
                 comp.type.value, comp.name)
    log.info("Registered stack with name '%s'.", name)
    return stack


def get(ws: Workspace, name: str, profile: str | None = None) -> Stack:
    state = ws.state(profile)
    if name not in state.stacks:
        raise _missing_stack(name, list(state.stacks))
    return state.stacks[name]


def activate(ws: Workspace, name: str, *, global_: bool = False, announce: bool = True) -> None:
    """Inside a repository only its local setting changes, unless ``global_``."""
    active = ws.active()
    state = ws.state(active.profile)
    if name not in state.stacks:
        raise _missing_stack(name, list(state.stacks))
    repo = active.repository
    if repo is not None and active.scope == "local" and not global_:
        repo_config.write(repo_config.RepositorySettings(repo.root, active.profile, name))
    else:
        profile = ws.profile(active.profile if not global_ or repo is None
                             else ws.config().activated_profile)
        with ws.globals.transaction() as tx:
            current = tx.config.profiles[profile.name]
            from dataclasses import replace

            tx.put_profile(replace(current, active_stack=name))
    if announce:
        log.info("Active stack set to: '%s'", name)


def delete(ws: Workspace, name: str, profile: str | None = None) -> None:
    active = ws.active()
    profile_name = profile or active.profile
    cfg = ws.config()
    where: list[str] = []
    if cfg.profiles[profile_name].active_stack == name:
        where.append("globally active")
    repo = active.repository
    if repo is not None and repo.active_profile_name == profile_name \
            and repo.active_stack_name == name:
        where.append(f"active in the repository at '{repo.root}'")
    with ws.store(profile_name).transaction() as tx:
        if name not in tx.before.stacks:
            raise _missing_stack(name, list(tx.before.stacks))
        problem = rules.active_stack_delete_problem(name, where)
        if problem is not None:
            raise IntegrityError(problem.message, hint=problem.hint)
        tx.delete_stack(name)
    log.info("Deleted stack '%s'.", name)


def copy(ws: Workspace, name: str, new_name: str, *, from_profile: str | None = None,
         to_profile: str | None = None) -> Stack:
    """Copy a stack, with its components when the target is another profile.

    All or nothing: a clash with a different same-named component in the target,
    or an existing stack named ``new_name``, stops the copy before any write.
    """
    check_name("stack", new_name)
    source_profile = ws.profile(from_profile).name
    target_profile = ws.profile(to_profile).name
    source = ws.state(source_profile)
    if name not in source.stacks:
        raise NotFoundError(f"Stack `{name}` cannot be copied as it does not exist.",
                            hint=f"Stacks in profile '{source_profile}': "
                                 f"{', '.join(sorted(source.stacks)) or '(none)'}.")
    stack = source.stacks[name]
    with ws.store(target_profile).transaction() as tx:
        if new_name in tx.before.stacks:
            raise AlreadyExistsError(
                f"Stack '{new_name}' already exists in profile '{target_profile}'.",
                hint="Delete it first or choose another name; stackctl never overwrites it.")
        if target_profile != source_profile:
            added, clashes = _merge_components(
                tx.before, [source.components[key] for key in stack.components.items()])
            if clashes:
                raise AlreadyExistsError(
                    f"Cannot copy stack '{name}' to profile '{target_profile}': it already "
                    f"has different components named {', '.join(clashes)}. Nothing was copied.",
                    hint="Rename or delete those components in the target profile first.")
            for comp in added:
                tx.put_component(comp)
        tx.put_stack(Stack(new_name, dict(stack.components)))
    log.info("Registered stack with name '%s'.", new_name)
    return Stack(new_name, dict(stack.components))


@dataclass(frozen=True)
class LocalResources:
    directories: list[Path]
    files: list[Path]


def local_resources(ws: Workspace, stack: Stack, profile: str) -> LocalResources:
    """What the local flavors of ``stack`` keep on this machine."""
    state = ws.state(profile)
    dirs: list[Path] = []
    paths: list[Path] = []
    art = state.component(ComponentType.ARTIFACT_STORE, stack.components.get(
        ComponentType.ARTIFACT_STORE, ""))
    if art is not None and art.flavor == "local":
        dirs.append(Path(str(art.config["path"])))
    meta = state.component(ComponentType.METADATA_STORE, stack.components.get(
        ComponentType.METADATA_STORE, ""))
    if meta is not None and meta.flavor == "sqlite":
        paths.append(Path(str(meta.config["uri"])))
    return LocalResources(dirs, paths)


def up(ws: Workspace) -> list[Path]:
    """Provision the active stack's local resources; returns directories created."""
    active = ws.active()
    stack = get(ws, active.stack or "", active.profile)
    log.info("Provisioning resources for active stack '%s'.", stack.name)
    res = local_resources(ws, stack, active.profile)
    created = []
    for directory in [*res.directories, *(p.parent for p in res.files)]:
        if not directory.exists():
            directory.mkdir(parents=True)
            created.append(directory)
            log.info("Created directory %s", directory)
    if not created:
        log.info("Nothing to provision: the local resources of stack '%s' exist.", stack.name)
    return created


def down(ws: Workspace, *, force: bool = False) -> list[Path]:
    """Without ``force`` nothing is deleted; with it, the local data is removed."""
    active = ws.active()
    stack = get(ws, active.stack or "", active.profile)
    res = local_resources(ws, stack, active.profile)
    present = [p for p in [*res.directories, *res.files] if p.exists()]
    if not force:
        log.info("Local flavors of stack '%s' run nothing to suspend. Their data stays:%s",
                 stack.name, "".join(f"\n  {p}" for p in present) or " (none yet)")
        log.info("Run `stackctl stack down --force` to delete it.")
        return []
    log.info("Deprovisioning resources for active stack '%s'.", stack.name)
    for path in present:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        log.info("Deleted %s", path)
    return present


def all_stacks(ws: Workspace, profile: str | None = None) -> Mapping[str, Stack]:
    """Every stack of ``profile`` (default: the active one), reading only the stacks:
    a broken component file does not stop a listing."""
    return ws.store(profile or ws.active().profile).load_stacks()
