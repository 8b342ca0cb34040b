"""Desired vs live → an ordered Plan, with drift, impact and unmanaged resources.

Views are compared with ``==``; field diffs are computed only for the few
that differ (never one whole-state DeepDiff). Integrity of the state *after*
the plan is checked here with the core rules, so a plan that would break a
stack fails at plan time, not halfway through an apply.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stackctl import rules
from stackctl.compiler.desired import DesiredProfile, DesiredState
from stackctl.errors import IntegrityError
from stackctl.model import ComponentType, ProfileState, Stack, profile_address
from stackctl.plan import views
from stackctl.plan.live import Live, LiveProfile
from stackctl.plan.model import Change, Drift, Plan, PlanBuilder
from stackctl.workspace import DEFAULT, default_state

# creates/updates run in this order; deletes in reverse
PHASES = {"profile": 0, "flavor": 1, "component": 2, "stack": 3, "profile-settings": 4,
          "repository": 5, "global": 6}


class PlanError(IntegrityError):
    rule = "plan"


def compute_plan(desired: DesiredState, live: Live, *, inputs: Mapping[str, Any],
                 prune: bool = False, plan_id: str | None = None) -> Plan:
    plan_id = plan_id or str(uuidlib.uuid4())
    b = PlanBuilder(owner=desired.owner)
    problems: list[str] = []
    b.stores["global"] = {"lineage": live.books.lineage, "serial": live.books.serial}
    for name in sorted({*desired.profiles, *live.profiles}):
        _profile(b, name, desired.profiles.get(name), live.profiles.get(name), live, desired,
                 prune, plan_id, problems)
    _repositories(b, desired, live, plan_id)
    if desired.active_profile and desired.active_profile != live.config.activated_profile:
        before = {"active_profile": live.config.activated_profile}
        after = {"active_profile": desired.active_profile}
        _emit(b, "global", "global", None, before, after, set(), managed=live.books.managed,
              plan_id=plan_id, full_after=after, owners=live.books.owners)
    problems.extend(f"{_at(desired, a)}{a}: managed by project '{o}'; this project cannot "
                    "change it (declare it external, or remove it here)" for a, o in b.foreign)
    if problems:
        raise PlanError("The plan would break the live configuration:\n  "
                        + "\n  ".join(problems),
                        hint="Fix the manifests, or apply the dependent changes together.")
    changes = sorted(b.changes, key=_order)
    return Plan(id=plan_id, created_at=datetime.now(timezone.utc).isoformat(),
                inputs=dict(inputs), stores=b.stores, reads=b.reads,
                desired_prints=b.desired_prints, changes=tuple(changes), drift=tuple(b.drift),
                unmanaged=tuple(sorted(b.unmanaged)), prunable=tuple(sorted(b.prunable)),
                prune=prune)


def _order(change: Change) -> tuple[int, int, str]:
    phase = PHASES["profile-settings"] if (change.kind == "profile"
                                           and change.action == "update") else PHASES[change.kind]
    if change.action == "delete":
        return (1, -phase, change.address)
    return (0, phase, change.address)


def _emit(b: PlanBuilder, address: str, kind: str, profile: str | None,
          before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
          hidden: set[tuple[str, ...]], *, managed: Mapping[str, str], plan_id: str,
          full_after: Mapping[str, Any] | None, prune: bool = False,
          impact: tuple[str, ...] = (), owners: Mapping[str, str] | None = None) -> None:
    """Classify one resource and record change, drift, reads and prints."""
    recorded = managed.get(address)
    owner = (owners or {}).get(address)
    if recorded is not None and owner is not None and owner != b.owner:
        # another project's: never changed, pruned or counted here; claiming it is an error
        if after is not None:
            b.foreign.append((address, owner))
        return
    before_print = views.print_of(before)
    if recorded is not None and before is not None and before_print != recorded:
        b.drift.append(Drift(address, "changed"))
    elif recorded is not None and before is None:
        b.drift.append(Drift(address, "deleted"))
    if after is None:
        if before is None:
            return
        if recorded is None:
            b.unmanaged.append(address)
            return
        if not prune:
            b.prunable.append(address)
            return
        action = "delete"
    elif before is None:
        action = "create"
    elif before == after:
        action = "no-op"
    else:
        action = "update"
    b.reads[address] = before_print
    # a plain no-op writes nothing, so there is no desired value to vouch for
    if full_after is not None and (action != "no-op" or recorded is None):
        b.desired_prints[address] = views.salted_print(plan_id, full_after)
    fields = views.field_changes(before, after, hidden) if action == "update" else ()
    b.changes.append(Change(
        address=address, kind=kind, action=action, profile=profile,
        before=views.redact_view(before, hidden), after=views.redact_view(after, hidden),
        # a no-op stackctl does not manage yet, or whose record is stale (live was changed
        # to what the manifests say, e.g. by an interrupted apply): apply records it
        fields=fields, adopt=action == "no-op" and (recorded != views.print_of(before) or (
            b.owner is not None and owner != b.owner)),
        impact=impact if action in ("update", "delete") else ()))


def _profile(b: PlanBuilder, name: str, dp: DesiredProfile | None, lp: LiveProfile | None,
             live: Live, desired: DesiredState, prune: bool, plan_id: str,
             problems: list[str]) -> None:
    address = profile_address(name)
    live_cfg = lp.config if lp else None
    gmanaged = live.books.managed
    creating = live_cfg is None and dp is not None
    if lp is not None and lp.books is not None:
        b.stores[address] = {"lineage": lp.books.lineage, "serial": lp.books.serial}
    before = views.profile_view(live_cfg) if live_cfg else None
    after: dict[str, Any] | None = None
    if dp is not None:
        s = dp.settings
        store_type = s.store_type if s else (live_cfg.store_type if live_cfg else "local")
        url = (f"env:{s.url_from_env}" if s and s.url_from_env else (s.store_url if s else None))
        store_url = url or (live_cfg.store_url if live_cfg else "(default)")
        active = (s.active_stack if s and s.active_stack else
                  (live_cfg.active_stack if live_cfg else DEFAULT))
        after = {"store_type": store_type, "store_url": store_url, "active_stack": active}
        if live_cfg:
            reason = _store_change(live_cfg.store_type, live_cfg.store_url, store_type,
                                   url or live_cfg.store_url)
            if reason:
                problems.append(f"{_at(desired, address)}{address}: the store of an existing "
                                f"profile cannot change ({reason}); export it and apply to a "
                                "new profile instead")
    if dp is not None and dp.external:
        if live_cfg is None:
            problems.append(f"{_at(desired, address)}{address}: the external profile '{name}' "
                            "does not exist live")
            return
    elif dp is not None and dp.settings is None and name != DEFAULT and live_cfg is None:
        problems.append(f"{address}: profile '{name}' does not exist; declare it")
    if dp is not None and dp.external:
        pass  # managed elsewhere: never changed here
    elif dp is not None and dp.settings is None:
        # an undeclared profile (the default one) is used, not managed
        if creating:
            _emit(b, address, "profile", name, None, after, set(), managed={},
                  plan_id=plan_id, full_after=after)
    else:
        _emit(b, address, "profile", name, before, after, set(), managed=gmanaged,
              plan_id=plan_id, full_after=after, prune=prune, owners=live.books.owners)
    if dp is None:
        if _mine(b, address, gmanaged, live.books.owners) and prune \
                and live.config.activated_profile == name:
            problems.append(f"{address}: cannot delete the globally active profile")
        return  # kept as is, or deleted whole with its resources
    live_state = (lp.state if lp and lp.state is not None
                  else default_state(Path("/")) if creating else ProfileState({}, {}))
    managed = lp.books.managed if lp and lp.books else {}
    owners = lp.books.owners if lp and lp.books else {}
    _external(name, dp, live_state, desired, problems)
    _resources(b, name, dp, live_state, managed, owners, live, desired, prune, plan_id,
               problems)


def _store_change(live_type: str, live_url: str, want_type: str, want_url: str) -> str | None:
    """Why the desired store is another store than the live one (None: the same store).

    ``env:VAR`` is resolved: a profile created with ``--url`` and declared with
    ``urlFromEnv`` naming the same database is the same store, recorded differently.
    """
    from stackctl.stores.urls import redact_url

    if live_type != want_type:
        return f"store type {live_type} → {want_type}"
    resolved = [os.environ.get(u[4:]) if u.startswith("env:") else u
                for u in (live_url, want_url)]
    if resolved[0] == resolved[1] and resolved[0] is not None:
        return None
    if live_url == want_url:
        return None
    unset = [u[4:] for u, r in zip((live_url, want_url), resolved, strict=True) if r is None]
    if unset:
        return (f"cannot tell whether it is the same database: ${unset[0]} is not set")
    return f"{redact_url(str(resolved[0]))} → {redact_url(str(resolved[1]))}"


def _at(desired: DesiredState, address: str) -> str:
    """``file:line:col: `` of the manifest declaring ``address`` (plan errors are located)."""
    doc = desired.sources.get(address)
    return f"{doc.locate(('metadata', 'name'))}: " if doc else ""


def _mine(b: PlanBuilder, address: str, managed: Mapping[str, str],
          owners: Mapping[str, str]) -> bool:
    """Managed by stackctl for this project (or for no named project)."""
    return address in managed and owners.get(address, b.owner) == b.owner


def _external(profile: str, dp: DesiredProfile, live_state: ProfileState,
              desired: DesiredState, problems: list[str]) -> None:
    """Every external component and stack must exist live."""
    for ctype, cname in sorted(dp.external_components):
        if (ctype, cname) not in live_state.components:
            address = f"{profile}/{ctype.value}/{cname}"
            problems.append(f"{_at(desired, address)}{address}: the external component "
                            f"'{cname}' ({ctype.value}) does not exist live")
    for sname in sorted(dp.external_stacks):
        if sname not in live_state.stacks:
            address = f"{profile}/stack/{sname}"
            problems.append(f"{_at(desired, address)}{address}: the external stack '{sname}' "
                            "does not exist live")


def _resources(b: PlanBuilder, profile: str, dp: DesiredProfile, live_state: ProfileState,
               managed: Mapping[str, str], owners: Mapping[str, str], live: Live,
               desired: DesiredState, prune: bool, plan_id: str,
               problems: list[str]) -> None:
    customs = {**live_state.flavors, **dp.flavors}
    after_stacks: dict[str, Stack] = dict(live_state.stacks)
    after_components = dict(live_state.components)
    # flavors
    for key in sorted({*dp.flavors, *live_state.flavors}):
        mine, theirs = dp.flavors.get(key), live_state.flavors.get(key)
        _emit(b, f"{profile}/flavor/{key[0].value}/{key[1]}", "flavor", profile,
              views.flavor_view(theirs) if theirs else None,
              views.flavor_view(mine) if mine else None, set(), managed=managed,
              plan_id=plan_id, full_after=views.flavor_view(mine) if mine else None, prune=prune,
              owners=owners)
    # stacks first (to know what stays), then components with their impact
    for name in sorted({*dp.stacks, *live_state.stacks} - dp.external_stacks):
        mine_s, theirs_s = dp.stacks.get(name), live_state.stacks.get(name)
        address = f"{profile}/stack/{name}"
        if mine_s is not None:
            after_stacks[name] = mine_s
        elif _mine(b, address, managed, owners) and prune:
            after_stacks.pop(name, None)
        _emit(b, address, "stack", profile,
              views.stack_view(theirs_s) if theirs_s else None,
              views.stack_view(mine_s) if mine_s else None, set(), managed=managed,
              plan_id=plan_id, full_after=views.stack_view(mine_s) if mine_s else None,
              prune=prune, owners=owners)
    users = _users([*after_stacks.values(), *live_state.stacks.values()])
    for key in sorted({*dp.components, *live_state.components} - dp.external_components):
        mine_c, theirs_c = dp.components.get(key), live_state.components.get(key)
        address = f"{profile}/{key[0].value}/{key[1]}"
        if mine_c is not None:
            after_components[key] = mine_c
        elif _mine(b, address, managed, owners) and prune:
            after_components.pop(key, None)
            staying = {n: after_stacks[n] for n in users.get(key, ()) if n in after_stacks}
            for problem in rules.component_delete_problems(key[0], key[1], ProfileState(
                    after_components, after_stacks), staying):
                problems.append(f"{address}: {problem.message}")
        hidden = views.sensitive_paths(key[0], [c.flavor for c in (mine_c, theirs_c) if c],
                                       customs)
        full = views.component_view(mine_c) if mine_c else None
        _emit(b, address, "component", profile,
              views.component_view(theirs_c) if theirs_c else None, full, hidden,
              managed=managed, plan_id=plan_id, full_after=full, prune=prune,
              impact=_impact(profile, users.get(key, set()), live, desired), owners=owners)
    after = ProfileState(after_components, after_stacks, customs)
    for stack in after_stacks.values():
        for problem in rules.stack_problems(stack, after):
            problems.append(f"{profile}/stack/{stack.name}: {problem.message}")


def _users(stacks: list[Stack]) -> dict[tuple[ComponentType, str], set[str]]:
    """component → the stacks naming it, built once (not a scan per component)."""
    index: dict[tuple[ComponentType, str], set[str]] = {}
    for stack in stacks:
        for ctype, name in stack.components.items():
            index.setdefault((ctype, name), set()).add(stack.name)
    return index


def _impact(profile: str, stacks: set[str], live: Live,
            desired: DesiredState) -> tuple[str, ...]:
    if not stacks:
        return ()
    users = sorted(stacks)
    cfg = live.config.profile(profile)
    dp = desired.profiles.get(profile)
    active_stack = (dp.settings.active_stack if dp and dp.settings and dp.settings.active_stack
                    else cfg.active_stack if cfg else None)
    out = []
    for stack in users:
        marks = []
        if active_stack == stack:
            glob = (desired.active_profile or live.config.activated_profile) == profile
            marks.append("globally active" if glob else f"active in profile '{profile}'")
        for path, repo in live.repositories.items():
            if repo and repo.active_profile_name == profile and repo.active_stack_name == stack:
                marks.append(f"active in repository {path}")
        out.append(f"stack '{stack}'" + (f" ({', '.join(marks)})" if marks else ""))
    return tuple(out)


def _repositories(b: PlanBuilder, desired: DesiredState, live: Live, plan_id: str) -> None:
    for path in sorted({*desired.repositories, *live.repositories}):
        want = desired.repositories.get(path)
        have = live.repositories.get(path)
        before = ({"active_profile": have.active_profile_name,
                   "active_stack": have.active_stack_name} if have else None)
        after = None
        if want is not None:
            profile = want.active_profile or desired.active_profile or DEFAULT
            dp = desired.profiles.get(profile)
            stack = want.active_stack or (dp.settings.active_stack if dp and dp.settings
                                          else None) or DEFAULT
            after = {"active_profile": profile, "active_stack": stack}
        _emit(b, f"repository/{path}", "repository", None, before, after, set(),
              managed=live.books.managed, plan_id=plan_id, full_after=after,
              owners=live.books.owners)

