"""Carry out a plan: exactly its changes, each store in one atomic commit.

Order: per profile one store commit (a new profile's store is written once,
with its final content; flavors, components, stacks; deletions in reverse);
then repositories; then one global-config transaction (new profiles,
profile settings, active profile, bookkeeping, the plan's id so it never
applies twice). Inside every lock the objects the
plan read are checked again, so a concurrent change makes the apply refuse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl import rules
from stackctl.compiler.desired import DesiredState
from stackctl.config import repository as repo_config
from stackctl.defaults import DEFAULT, default_state, local_artifact_dirs
from stackctl.errors import IntegrityError, StaleStateError
from stackctl.model import Address, ProfileConfig, ProfileState
from stackctl.plan import compare, records
from stackctl.plan.model import Change, Kept, Plan, defaults_line
from stackctl.stores.base import Bookkeeping, ProfileStore, Transaction
from stackctl.stores.urls import path_from_file_url
from stackctl.workspace import Workspace, open_store

if TYPE_CHECKING:
    from contextlib import ExitStack

    from stackctl.config.global_config import GlobalTransaction

log = logging.getLogger("stackctl")


@dataclass(frozen=True)
class Outcome:
    """What the apply did at one address of the plan."""

    address: str
    action: str  # the plan's: create | update | delete | no-op
    result: str  # created | updated | deleted | now managed | unchanged


@dataclass(frozen=True)
class ApplyResult:
    created: int
    updated: int
    deleted: int
    plan_id: str = ""
    outcomes: tuple[Outcome, ...] = ()
    kept: tuple[Kept, ...] = ()  # drifted fields driftMode warn left live (plan.kept)

    @property
    def summary(self) -> str:
        return (f"Apply complete: {self.created} created, {self.updated} updated, "
                f"{self.deleted} deleted.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``apply --format json``): per address, action and result."""
        data: dict[str, Any] = {
            "format_version": 1, "plan_id": self.plan_id,
            "changes": [{"address": o.address, "action": o.action, "result": o.result}
                        for o in self.outcomes],
            "summary": {"created": self.created, "updated": self.updated,
                        "deleted": self.deleted, "text": self.summary}}
        if self.kept:  # live value vs the manifests', per field (secrets redacted)
            data["kept"] = [{"address": k.address,
                             "fields": [{"path": f.path, "live": f.old, "manifest": f.new}
                                        for f in k.fields]} for k in self.kept]
        return data


def check_fresh(saved: Plan, fresh: Plan) -> None:
    """Refuse a saved plan whose reads, stores or desired objects changed since."""
    stale: list[str] = []
    # A plan that neither reads nor changes anything of the global config (only shared
    # stores) applies on another machine: a CI apply job has a global config of its own.
    local_only = not any(c.kind in ("profile", "repository", "global") for c in saved.changes)
    for key, info in saved.stores.items():
        now = fresh.stores.get(key)
        if key == "global" and local_only:
            continue
        if info.get("lineage") and now and now.get("lineage") != info.get("lineage"):
            stale.append(f"{key}: the store was replaced (lineage differs)")
    for address, printed in saved.reads.items():
        if fresh.reads.get(address, printed) != printed or (
                address not in fresh.reads and printed is not None):
            stale.append(f"{address}: changed since the plan was made")
    for address, printed in saved.desired_prints.items():
        if fresh.desired_prints.get(address) != printed:
            stale.append(f"{address}: the manifests or a secret value differ from the plan's")
    if stale:
        raise StaleStateError(
            "The saved plan is stale:\n  " + "\n  ".join(sorted(set(stale))),
            hint="Run `stackctl plan` again and review the new plan.")


def check_same_changes(saved: Plan, fresh: Plan) -> None:
    """Refuse a saved plan unless the plan computed now has exactly its changes.

    Action by action and field by field, in order: a deleted, added, reordered
    or edited change (a create turned into a delete, an edited ``after``) is
    refused, naming the first difference, so apply never skips a check that
    ``plan`` made or writes anything the reviewed plan did not show.
    """
    problem = _first_difference(saved.changes, fresh.changes)
    if problem is None and tuple(saved.defaults) != tuple(fresh.defaults):
        problem = (f"the default objects of new profiles are {_shown(list(saved.defaults))} "
                   f"in the plan file but {_shown(list(fresh.defaults))} now")
    if problem is None and saved.kept != fresh.kept:  # what warn leaves live was reviewed too
        problem = (f"the fields left live (driftMode warn) are "
                   f"{_shown(sorted(k.address for k in saved.kept))} in the plan file but "
                   f"{_shown(sorted(k.address for k in fresh.kept))} now")
    if problem:
        raise StaleStateError(
            f"The saved plan's changes differ from the plan computed now: {problem}.",
            hint="Do not edit plan files. Run `stackctl plan -o FILE` again and review it.")


def _first_difference(saved: tuple[Change, ...], fresh: tuple[Change, ...]) -> str | None:
    saved_addresses = [c.address for c in saved]
    fresh_addresses = {c.address for c in fresh}
    for index in range(max(len(saved), len(fresh))):
        if index >= len(fresh) or (index < len(saved)
                                   and saved[index].address not in fresh_addresses):
            return (f"{_shown(saved[index].address)}: the plan file has a "
                    f"{_shown(saved[index].action)} change that is not computed now")
        if index >= len(saved) or fresh[index].address not in saved_addresses:
            return (f"{fresh[index].address}: the {fresh[index].action} change computed now is "
                    "missing from the plan file")
        ours, theirs = saved[index].to_dict(), fresh[index].to_dict()
        if ours["address"] != theirs["address"]:
            return (f"change {index + 1} is {_shown(ours['address'])} in the plan file but "
                    f"{_shown(theirs['address'])} now (changes out of order)")
        path = _differing_path(ours, theirs, ())
        if path is not None:
            a, b = _at(ours, path), _at(theirs, path)
            return (f"{theirs['address']}: {'.'.join(path)} is {_shown(a)} in the plan file "
                    f"but {_shown(b)} now")
    return None


def _differing_path(a: Any, b: Any, path: tuple[str, ...]) -> tuple[str, ...] | None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted({*a, *b}, key=str):
            if key not in a or key not in b:
                return (*path, str(key))
            found = _differing_path(a[key], b[key], (*path, str(key)))
            if found is not None:
                return found
        return None
    if (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _differing_path(x, y, (*path, str(i)))
            if found is not None:
                return found
        return None
    # bool is an int in Python: True == 1, but not in a plan
    same = type(a) is type(b) or (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)))
    return None if same and a == b else path


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(value, Mapping):
            if key not in value:
                return "(absent)"
            value = value[key]
        else:
            value = value[int(key)]
    return value


def _shown(value: Any) -> str:
    text = value if value == "(absent)" else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def check_not_applied(ws: Workspace, plan: Plan) -> None:
    """A saved plan applies once: its id is recorded by the apply that carried it out."""
    if plan.id in ws.globals.bookkeeping().applied_plans:
        raise StaleStateError(f"Plan {plan.id} has already been applied.",
                              hint="Make a new plan with `stackctl plan`.")


@dataclass(frozen=True)
class _Recording:
    """What apply records as last applied: what it wrote, except the fields driftMode
    warn kept live (``plan.kept``), recorded with the ``manifests``' values."""

    kept: Mapping[str, Kept]
    manifests: DesiredState | None

    def view(self, address: str, written: Mapping[str, Any],
             manifest: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        from stackctl.plan.drift_mode import recorded_view

        return recorded_view(written, self.kept.get(address), manifest)

    def manifest_object(self, profile: str, change: Change) -> Mapping[str, Any] | None:
        """The manifests' view of a kept component, stack or flavor (None otherwise)."""
        if change.address not in self.kept or self.manifests is None:
            return None
        dp = self.manifests.profiles[profile]
        if change.kind == "component":
            return compare.component_view(dp.components[change.key.key])
        if change.kind == "flavor":
            return compare.flavor_view(dp.flavors[change.key.key])
        return compare.stack_view(dp.stacks[change.key.name])


def apply_plan(ws: Workspace, plan: Plan, desired: DesiredState,
               manifests: DesiredState | None = None) -> ApplyResult:
    """Apply ``plan``, writing ``desired``; ``manifests``: what the manifests say when
    driftMode warn kept fields live (``desired`` then holds their live values)."""
    check_not_applied(ws, plan)
    rec = _Recording({k.address: k for k in plan.kept}, manifests)
    changes = [c for c in plan.changes if c.action != "no-op" or c.adopt]
    existing = ws.config().profiles if ws.globals.exists() else {}
    created = {str(c.profile): _new_profile(ws, c, desired) for c in changes
               if c.kind == "profile" and c.action == "create"}
    if created.keys() & existing.keys():
        raise StaleStateError("Profiles were created since the plan was made: "
                              f"{', '.join(sorted(created.keys() & existing.keys()))}.",
                              hint="Run `stackctl plan` again.")
    by_profile: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind in ("component", "stack", "flavor"):
            by_profile.setdefault(str(change.profile), []).append(change)
    # a renamed profile's store is still listed under its old name until the global commit
    renamed = {_renamed_to(c): str(c.key.name) for c in changes
               if c.kind == "profile" and c.action == "rename"
               and not (c.after or {}).get("record_only")}
    defaults = 0  # objects a new store is created with, beyond the plan's changes
    for profile in sorted(by_profile.keys() | created.keys() | renamed.keys()):
        items = by_profile.get(profile, [])
        if profile in created:
            if _create_store(ws, plan, created[profile], items, desired, rec):
                defaults += len(plan.defaults_of(profile))
        else:
            store = ws.store(renamed.get(profile, profile))
            try:
                _apply_profile(plan, store, profile, items, desired, rec,
                               renamed_from=renamed.get(profile))
            finally:  # a renamed SQLite database may move next: no connection left open
                store.close()
    for change in changes:
        if change.kind == "repository":
            _apply_repository(change)
    _apply_global(ws, plan, changes, desired, created, rec)
    counts = {a: sum(1 for c in changes if c.action == a) for a in ("create", "update", "delete")}
    outcomes = tuple(Outcome(c.address, c.action, _result(c)) for c in plan.changes)
    return ApplyResult(counts["create"] + defaults, counts["update"], counts["delete"], plan.id,
                       outcomes, plan.kept)


def nothing_applied(plan: Plan) -> ApplyResult:
    """The result of a plan without changes: nothing written, every address unchanged."""
    return ApplyResult(0, 0, 0, plan.id,
                       tuple(Outcome(c.address, c.action, "unchanged") for c in plan.changes),
                       plan.kept)


def _result(change: Change) -> str:
    if change.action == "no-op":
        return "now managed" if change.adopt else "unchanged"
    return {"create": "created", "update": "updated", "delete": "deleted",
            "rename": "renamed"}[change.action]


def _new_profile(ws: Workspace, change: Change, desired: DesiredState) -> ProfileConfig:
    name = str(change.profile)
    settings = desired.profiles[name].settings
    store_type = settings.store_type if settings else "local"
    url = settings.url if settings else None
    active = (change.after or {}).get("active_stack") or DEFAULT
    return ProfileConfig(name, store_type, url or ws.default_store_url(name, store_type), active)


def _create_store(ws: Workspace, plan: Plan, profile: ProfileConfig, items: list[Change],
                  desired: DesiredState, rec: _Recording) -> bool:
    """A new profile's store, written once with its final content.

    The global config lists the profile only in the final global transaction,
    so a crash before it leaves the global config as before; the store is then
    found again by the next plan (see ``plan.live``) and completed.
    """
    store = open_store(profile)
    if store.exists():  # left by an interrupted apply, or a shared store made elsewhere
        _apply_profile(plan, store, profile.name, items, desired, rec)
        return False
    tx = Transaction(default_state(ws.root), Bookkeeping(lineage=""))
    marks = _apply_changes(tx, profile.name, items, desired, rec, defer=True)
    for directory in local_artifact_dirs(tx.after):
        directory.mkdir(parents=True, exist_ok=True)
    # the bookkeeping (a fingerprint and a record per object) is computed while the
    # store's files are being written, when the store can write them meanwhile
    store.create(tx.after, tx.managed, tx.owners, tx.applied,
                 before_books=lambda: _mark(tx, marks, desired.owner))
    done = [f"Created profile/{profile.name}"]
    if plan.defaults_of(profile.name):
        done.append(f"Created {defaults_line(plan, profile.name)}")
    _log_done(done, items)
    return True


def _verify(tx_reads: Mapping[str, Any], plan: Plan, addresses: list[str]) -> None:
    changed = [a for a in addresses if a in plan.reads
               and compare.print_of(tx_reads.get(a)) != plan.reads[a]]
    if changed:
        raise StaleStateError(
            "Live state changed while applying; nothing was written to this store:\n  "
            + "\n  ".join(changed), hint="Run `stackctl plan` again.")


def _live_views(tx: Transaction, profile: str, items: list[Change]) -> dict[str, Any]:
    """What the plan read, by address: after its renames, as the planner compared them
    (a rename itself read its source before)."""
    from stackctl.plan import moves

    state = tx.before
    books = moves.Books(dict(tx.managed), dict(tx.owners), dict(tx.applied))
    found: dict[str, Any] = {}
    for change in items:
        if change.action == "rename" and moves.exists(state, change.key):
            found[change.address] = (compare.stack_view(state.stacks[change.key.name])
                                     if change.kind == "stack" else
                                     compare.component_view(state.components[change.key.key]))
            state = moves.rename(state, books, change.key,
                                 Address.parse(str((change.after or {})["to"])))
    for (ctype, name), comp in state.components.items():
        found.setdefault(str(Address.component(profile, ctype, name)),
                         compare.component_view(comp))
    for name, stack in state.stacks.items():
        found.setdefault(str(Address.stack(profile, name)), compare.stack_view(stack))
    for (ctype, name), flavor in state.flavors.items():
        found[str(Address.flavor(profile, ctype, name))] = compare.flavor_view(flavor)
    return found


def _renamed_to(change: Change) -> str:
    """The new name of a renamed profile (``after.to`` is ``profile/NEW``)."""
    return Address.parse(str((change.after or {})["to"])).name


def _apply_profile(plan: Plan, store: ProfileStore, profile: str, items: list[Change],
                   desired: DesiredState, rec: _Recording, *,
                   renamed_from: str | None = None) -> None:
    from stackctl.plan import moves

    expected = plan.stores.get(str(Address.of_profile(profile)), {}).get("lineage")
    with store.transaction() as tx:
        if expected and tx.books_before.lineage != expected:
            raise StaleStateError(f"The store of profile '{profile}' was replaced since the "
                                  "plan was made (lineage differs).")
        if renamed_from is not None:  # the first of a profile rename's two commits
            moves.rename_profile_books(moves.Books(tx.managed, tx.owners, tx.applied),
                                       renamed_from, profile)
        _verify(_live_views(tx, profile, items), plan, [c.address for c in items])
        _apply_changes(tx, profile, items, desired, rec)
        after = tx.after
        for stack in after.stacks.values():
            problems = rules.stack_problems(stack, after)
            if problems:  # the plan checked this; live moved under us
                raise IntegrityError(f"{Address.stack(profile, stack.name)}: {problems[0].message}")
    _log_done([], items)


def _log_done(lines: list[str], items: list[Change]) -> None:
    """A line per change applied to one store, as one message: a record per line cost
    ~20 µs in logging and the handler, 0.2 s for a store of 10,000 objects."""
    lines.extend(f"{_verb(change)} {change.address}" for change in items)
    if lines:
        log.info("%s", "\n".join(lines))


# What an applied change leaves to record: its address, the view written (None: deleted)
# and the paths of that view never to be recorded in clear.
_Mark = tuple[str, Any, AbstractSet[tuple[str, ...]]]


def _apply_changes(tx: Transaction, profile: str, items: list[Change],
                   desired: DesiredState, rec: _Recording, *, defer: bool = False
                   ) -> list[_Mark]:
    """The changes made to the transaction's objects, each recorded in its bookkeeping
    as it is made (a rename moves the records made before it); with ``defer`` (a new
    store: nothing there to rename), what to record is returned instead, for ``_mark``
    to record while the store's files are being written."""
    import uuid as uuidlib

    dp = desired.profiles.get(profile)
    customs = {**tx.before.flavors, **(dp.flavors if dp else {})}
    marks: list[_Mark] = []
    for change in items:
        target = change.key
        written: Any = None
        hidden: AbstractSet[tuple[str, ...]] = frozenset()
        if change.action == "rename":
            assert not defer, "a new store has nothing to rename"
            _rename(tx, change)
            continue
        if change.kind == "flavor":
            if change.action == "delete":
                tx.delete_flavor(*target.key)
            else:
                assert dp is not None
                tx.put_flavor(dp.flavors[target.key])
                written = compare.flavor_view(dp.flavors[target.key])
        elif change.kind == "component":
            if change.action == "delete":
                tx.delete_component(*target.key)
            else:
                assert dp is not None
                current = tx.before.components.get(target.key)
                comp = replace(dp.components[target.key],
                               uuid=current.uuid if current else str(uuidlib.uuid4()))
                tx.put_component(comp)
                written = compare.component_view(comp)
                hidden = compare.sensitive_paths(comp.type, [comp.flavor], customs)
        elif change.action == "delete":
            tx.delete_stack(target.name)
        else:
            assert dp is not None
            tx.put_stack(dp.stacks[target.name])
            written = compare.stack_view(dp.stacks[target.name])
        if written is not None:  # what warn kept live is recorded as the manifests say
            written = rec.view(change.address, written, rec.manifest_object(profile, change))
        marks.append((change.address, written, hidden))
        if not defer:
            _mark(tx, marks, desired.owner)
            marks.clear()
    return marks


def _mark(tx: Transaction, marks: list[_Mark], owner: str | None) -> None:
    """Record in the transaction's bookkeeping what ``_apply_changes`` wrote."""
    for address, written, hidden in marks:
        tx.mark_managed(address, compare.print_of(written), owner,
                        records.record_of(written, hidden))


def _rename(tx: Transaction, change: Change) -> None:
    """A ``moved:`` rename inside the store's transaction: the same object (uuid kept),
    its stacks and bookkeeping follow (plan.moves)."""
    from stackctl.plan import moves

    books = moves.Books(tx.managed, tx.owners, tx.applied)
    after = moves.rename(ProfileState(tx.components, tx.stacks, tx.flavors), books, change.key,
                         Address.parse(str((change.after or {})["to"])))
    tx.components, tx.stacks = dict(after.components), dict(after.stacks)


def _verb(change: Change) -> str:
    if change.adopt:
        return "Now managing"
    return {"create": "Created", "update": "Updated", "delete": "Deleted",
            "rename": "Renamed"}[change.action]


def _rename_profile(ws: Workspace, plan: Plan, tx: GlobalTransaction, change: Change,
                    desired: DesiredState, held: ExitStack) -> None:
    """The second of a profile rename's commits (plan.moves): the global config's entry,
    its store's default directory (a local store's files or a SQLite database), the
    active profile and the global records."""
    from stackctl.plan import moves

    old, new = str(change.key.name), _renamed_to(change)
    live = tx.config.profiles.get(old)

    def stale(why: str = f":\n  {change.address}") -> StaleStateError:
        return StaleStateError(f"Live state changed while applying; profile '{old}' was not "
                               f"renamed to '{new}'{why}", hint="Run `stackctl plan` again.")

    if (change.after or {}).get("record_only"):  # deleted outside stackctl: its record
        if live is not None or new in tx.config.profiles:  # (its creation is recorded next)
            raise stale()
        moves.rename_profile_books(moves.Books(tx.managed, tx.owners, tx.applied), old, new)
        return
    if (live is None or new in tx.config.profiles
            or compare.print_of(compare.profile_view(live)) != plan.reads.get(change.address)):
        raise stale()
    after = moves.renamed_profile(live, new, ws.root, moves.declared_store_url(desired, new))
    occupied = moves.occupied_store_dir(live, after, ws.root)
    if occupied is not None:  # appeared since the plan (which refuses it)
        raise stale(f": {occupied} appeared, where its store would move (move it away)")
    active = tx.config.activated_profile == old
    tx.delete_profile(old)
    tx.put_profile(after)
    if active:
        tx.activate_profile(new)
    moves.rename_profile_globals(moves.Books(tx.managed, tx.owners, tx.applied), live, after,
                                 active)
    if after.store_url != live.store_url:  # a store in its default directory moves
        from stackctl.stores.lock import store_lock
        from stackctl.workspace import default_store_dir

        source, target = default_store_dir(ws.root, old), default_store_dir(ws.root, new)
        if live.store_type == "local":
            held.enter_context(store_lock(source / ".stackctl", f"profile '{old}'"))
            # after the commit, before the lock is let go: its lease moved with the directory
            held.callback((target / ".stackctl" / "lock.json").unlink, missing_ok=True)
        else:  # SQLite's own write lock: no writer is mid-commit beside the database
            from stackctl.stores.sql import SqlStore

            held.enter_context(SqlStore(old, live.store_url).locked())
        tx.move_store_dir(source, target)


def _apply_repository(change: Change) -> None:
    path = Path(change.key.name)
    after = change.after or {}
    settings = repo_config.RepositorySettings(path, after.get("active_profile"),
                                              after.get("active_stack"))
    (path / repo_config.REPOSITORY_DIR).mkdir(parents=True, exist_ok=True)
    repo_config.write(settings)
    log.info("%s %s", _verb(change), change.address)


def _apply_global(ws: Workspace, plan: Plan, changes: list[Change], desired: DesiredState,
                  created: Mapping[str, ProfileConfig], rec: _Recording) -> None:
    import contextlib

    doomed: list[ProfileConfig] = []
    # a renamed store's lock is held while its directory moves: no writer of the profile
    # is mid-commit in it (its journal names the old paths)
    held = contextlib.ExitStack()
    with held, ws.globals.transaction() as tx:
        for change in changes:
            if change.kind == "profile" and change.action == "rename":
                _rename_profile(ws, plan, tx, change, desired, held)
        current = {str(Address.of_profile(n)): compare.profile_view(p)
                   for n, p in tx.config.profiles.items()}
        current[str(Address.global_())] = {"active_profile": tx.config.activated_profile}
        _verify(current, plan, [c.address for c in changes if c.kind in ("profile", "global")
                                and c.action not in ("create", "rename")])
        for change in changes:
            if change.kind == "profile" and change.action == "rename":
                continue
            if change.kind == "profile":
                name = str(change.profile)
                live = tx.config.profiles.get(name)
                if change.action == "delete" and live is not None:
                    tx.delete_profile(name)
                    if live.store_type == "local":  # its files go with this commit
                        tx.destroy_store_dir(Path(path_from_file_url(live.store_url)))
                    doomed.append(live)
                    tx.mark_managed(change.address, None)
                    continue
                if change.action == "create":
                    live = created[name]
                    tx.put_profile(live)
                elif live is not None and change.after:
                    settings = desired.profiles[name].settings
                    # the plan allowed a URL change only to the same store (urlFromEnv adoption)
                    url = (f"env:{settings.url_from_env}" if settings and settings.url_from_env
                           else live.store_url)
                    live = replace(live, active_stack=change.after.get("active_stack"),
                                   store_url=url)
                    tx.put_profile(live)
                declared = name in desired.profiles and desired.profiles[name].settings
                if live is not None and declared:
                    view = rec.view(change.address, compare.profile_view(live))
                    tx.mark_managed(change.address, compare.print_of(view), desired.owner,
                                    records.record_of(view))
            elif change.kind == "global" and change.after:
                tx.activate_profile(change.after.get("active_profile"))
                view = rec.view(change.address, change.after)
                tx.mark_managed(change.address, compare.print_of(view), desired.owner,
                                records.record_of(view))
            elif change.kind == "repository" and (change.key.name in desired.repositories
                                                  or change.address in tx.managed):
                # an undeclared repository following a renamed stack is not taken over
                repo = rec.view(change.address, change.after) if change.after else None
                tx.mark_managed(change.address, compare.print_of(repo),
                                tx.owners.get(change.address, desired.owner)
                                if change.key.name not in desired.repositories
                                else desired.owner, records.record_of(repo))
        tx.applied_plans.append(plan.id)
    for profile in doomed:  # a SQL store may be shared by a team: it is left alone
        log.info("Deleted profile/%s", profile.name)
    for change in changes:
        if change.kind in ("profile", "global") and change.action in ("update", "rename"):
            log.info("%s %s", _verb(change), change.address)
