"""Desired vs live → an ordered Plan, with drift, impact and unmanaged resources.

Views are compared with ``==``; field diffs are computed only for the few
that differ (never one whole-state DeepDiff). Integrity of the state *after*
the plan is checked here with the core rules, so a plan that would break a
stack fails at plan time, not halfway through an apply.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from stackctl import rules
from stackctl.compiler.desired import DesiredProfile, DesiredState
from stackctl.defaults import DEFAULT, default_state
from stackctl.errors import IntegrityError
from stackctl.model import Address, ComponentType, ProfileState, Stack
from stackctl.plan import compare, records
from stackctl.plan.live import Live, LiveProfile
from stackctl.plan.model import MOVED_RULE, Change, Drift, Plan

# creates/updates run in this order; deletes in reverse
PHASES = {"profile": 0, "flavor": 1, "component": 2, "stack": 3, "profile-settings": 4,
          "repository": 5, "global": 6}


class PlanError(IntegrityError):
    rule = "plan"


def compute_plan(desired: DesiredState, live: Live, *, inputs: Mapping[str, Any],
                 prune: bool = False, plan_id: str | None = None) -> Plan:
    return Planner(desired, live, prune=prune, plan_id=plan_id or str(uuidlib.uuid4())).plan(
        inputs)


class Planner:
    """One plan's computation: the inputs it compares and what it has found so far."""

    def __init__(self, desired: DesiredState, live: Live, *, prune: bool, plan_id: str) -> None:
        self.desired = desired
        self.live = live
        self.prune = prune
        self.plan_id = plan_id
        self.changes: list[Change] = []
        self.drift: list[Drift] = []
        self.unmanaged: list[str] = []
        self.prunable: list[str] = []
        self.defaults: list[str] = []
        self.new_profiles: set[str] = set()
        self.reads: dict[str, str | None] = {}
        self.desired_views: dict[str, Mapping[str, Any] | None] = {}  # printed when read
        self.stores: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.notes: list[Mapping[str, Any]] = []  # e.g. a move with nothing to rename
        # (profile, old stack name) -> new name: stacks ``moved:`` renames (or renamed by an
        # interrupted apply); what names them (active stacks, repositories) follows
        self.renamed_stacks: dict[tuple[str, str], str] = {}
        self.owner = desired.owner  # the planning project's name
        # (address, owner): declared here, managed by another project
        self.foreign: list[tuple[str, str]] = []
        self.renamed_profiles: dict[str, str] = {}  # old -> new (``moved:`` profiles)
        if any(m.source.kind == "profile" for m in desired.moves):
            self.live = live = self._rename_profiles(live)
        # address -> last-applied record, from every store read (addresses are unique);
        # chained, not copied: a store's records are read only if asked for (LazyRecords)
        # (read-only below the first map: ChainMap writes only to its first mapping)
        stores = [lp.books.applied for lp in reversed(live.profiles.values())
                  if lp.books is not None]
        self.records: ChainMap[str, Mapping[str, Any]] = ChainMap(
            {}, *cast("list[MutableMapping[str, Mapping[str, Any]]]",
                      [*stores, live.books.applied]))

    def plan(self, inputs: Mapping[str, Any]) -> Plan:
        desired, live = self.desired, self.live
        self.stores["global"] = {"lineage": live.books.lineage, "serial": live.books.serial}
        for name in sorted({*desired.profiles, *live.profiles}):
            self._profile(name, desired.profiles.get(name), live.profiles.get(name))
        self._repositories()
        before = {"active_profile": live.config.activated_profile}
        recorded = live.books.managed.get(str(Address.global_()))
        # as it should be but not as last applied (kept by warn, adopted): shown as drift
        stale = recorded is not None and recorded != compare.print_of(before)
        if desired.active_profile and (desired.active_profile != live.config.activated_profile
                                       or stale):
            after = {"active_profile": desired.active_profile}
            self._emit(Address.global_(), before, after, managed=live.books.managed,
                       full_after=after, owners=live.books.owners)
        self.problems.extend(
            f"{_at(desired, a)}{a}: managed by project '{o}'; this project cannot change it "
            "(declare it external, or remove it here)" for a, o in self.foreign)
        if self.problems:
            raise PlanError("The plan would break the live configuration:\n  "
                            + "\n  ".join(self.problems),
                            hint="Fix the manifests, or apply the dependent changes together.")
        return Plan(id=self.plan_id, created_at=datetime.now(timezone.utc).isoformat(),
                    inputs=dict(inputs), stores=self.stores, reads=self.reads,
                    desired_prints=compare.SaltedPrints(self.plan_id, self.desired_views),
                    changes=tuple(sorted(self.changes, key=_order)), drift=tuple(self.drift),
                    unmanaged=tuple(sorted(self.unmanaged)),
                    prunable=tuple(sorted(self.prunable)), prune=self.prune,
                    defaults=tuple(sorted(self.defaults)), policy=tuple(self.notes))

    def _emit(self, key: Address, before: Mapping[str, Any] | None,
              after: Mapping[str, Any] | None, *, managed: Mapping[str, str],
              full_after: Mapping[str, Any] | None, deletable: bool = False,
              hidden: AbstractSet[tuple[str, ...]] = frozenset(),
              impact: tuple[str, ...] = (), owners: Mapping[str, str] | None = None) -> None:
        """Classify one resource and record change, drift, reads and prints.

        Only ``deletable`` kinds (profiles and what they hold) are deleted with
        ``--prune``; a repository or the active profile is never unset.
        """
        address = str(key)
        recorded = managed.get(address)
        owner = (owners or {}).get(address)
        if recorded is not None and owner is not None and owner != self.owner:
            # another project's: never changed, pruned or counted here; claiming it is an error
            if after is not None:
                self.foreign.append((address, owner))
            return
        before_print = compare.print_of(before)
        if before_print == recorded:  # most: one string for the record and the read
            before_print = recorded
        if recorded is not None and before is not None and before_print != recorded:
            # which fields, old (last applied) → new (live); none known without a record
            self.drift.append(Drift(address, "changed", records.drift_fields(
                self.records.get(address), before, hidden)))
        elif recorded is not None and before is None:
            self.drift.append(Drift(address, "deleted"))
        if after is None:
            if before is None:
                return
            if recorded is None:
                # in a new profile, only what its store is created with can be undeclared
                fresh = key.profile in self.new_profiles and key.kind != "profile"
                (self.defaults if fresh else self.unmanaged).append(address)
                return
            if not (deletable and self.prune):
                self.prunable.append(address)
                return
            action = "delete"
        elif before is None:
            action = "create"
        elif before == after:
            action = "no-op"
        else:
            action = "update"
        self.reads[address] = before_print
        # a plain no-op writes nothing, so there is no desired value to vouch for
        if full_after is not None and (action != "no-op" or recorded is None):
            self.desired_views[address] = full_after
        fields = compare.field_changes(before, after, hidden) if action == "update" else ()
        shown_before = compare.redact_view(before, hidden)
        # a no-op's two sides are equal: one redacted view serves both (time and memory)
        shown_after = shown_before if action == "no-op" else compare.redact_view(after, hidden)
        self.changes.append(Change.of(
            key=key, action=action, before=shown_before, after=shown_after,
            # a no-op stackctl does not manage yet, or whose record is stale (live was changed
            # to what the manifests say, e.g. by an interrupted apply): apply records it
            fields=fields, adopt=action == "no-op" and (recorded != before_print or (
                self.owner is not None and owner != self.owner)),
            impact=impact if action in ("update", "delete") else (),
            address=address))  # its cached_property, sharing the reads' key

    def _profile(self, name: str, dp: DesiredProfile | None, lp: LiveProfile | None) -> None:
        key = Address.of_profile(name)
        address = str(key)
        live_cfg = lp.config if lp else None
        gmanaged = self.live.books.managed
        creating = live_cfg is None and dp is not None
        if lp is not None and lp.books is not None:
            self.stores[address] = {"lineage": lp.books.lineage, "serial": lp.books.serial}
        before = compare.profile_view(live_cfg) if live_cfg else None
        after: dict[str, Any] | None = None
        if dp is not None:
            s = dp.settings
            store_type = s.store_type if s else (live_cfg.store_type if live_cfg else "local")
            url = s.url if s else None
            store_url = url or (live_cfg.store_url if live_cfg else "(default)")
            active = (s.active_stack if s and s.active_stack else
                      (self._moved_stack(name, live_cfg.active_stack, lp)
                       if live_cfg else DEFAULT))
            after = {"store_type": store_type, "store_url": store_url, "active_stack": active}
            reason = (_store_change(live_cfg.store_type, live_cfg.store_url, store_type,
                                    url or live_cfg.store_url) if live_cfg else None)
            if reason:
                self.problems.append(
                    f"{_at(self.desired, address)}{address}: the store of an existing profile "
                    f"cannot change ({reason}); export it and apply to a new profile instead")
        if dp is not None and lp is not None and lp.books is not None:
            self._renamed_elsewhere(name, address, lp.books.managed)
        if dp is not None and dp.external:
            if live_cfg is None:
                self.problems.append(f"{_at(self.desired, address)}{address}: the external "
                                     f"profile '{name}' does not exist live")
                return
        elif dp is not None and dp.settings is None and name != DEFAULT and live_cfg is None:
            self.problems.append(f"{address}: profile '{name}' does not exist; declare it")
        gowners = self.live.books.owners
        if dp is not None and dp.external:
            pass  # managed elsewhere: never changed here
        elif dp is not None and dp.settings is None:
            # an undeclared profile (the default one) is used, not managed
            if creating:
                self._emit(key, None, after, managed={}, full_after=after)
        else:
            self._emit(key, before, after, managed=gmanaged, full_after=after, deletable=True,
                       owners=gowners)
        if dp is None:
            if (self._mine(address, gmanaged, gowners) and self.prune
                    and self.live.config.activated_profile == name):
                self.problems.append(f"{address}: cannot delete the globally active profile")
            return  # kept as is, or deleted whole with its resources
        if lp and lp.state is not None:
            live_state = lp.state  # e.g. a store left by an interrupted apply
        elif creating:
            self.new_profiles.add(name)  # its store will be created with the default stack
            live_state = default_state(Path("/"))
        else:
            live_state = ProfileState({}, {})
        managed = lp.books.managed if lp and lp.books else {}
        owners = lp.books.owners if lp and lp.books else {}
        if any(m.source.profile == name and m.source.kind != "profile"
               for m in self.desired.moves):
            live_state, managed, owners = self._moves(name, live_state, managed, owners)
        self._external(name, dp, live_state)
        self._resources(name, dp, live_state, managed, owners)

    def _renamed_elsewhere(self, name: str, address: str, managed: Mapping[str, str]) -> None:
        """A store whose records all name another profile was renamed through another
        global config (a machine sharing a SQL store): this one still names it ``name``.
        Refused: applying would take its objects over under the old names."""
        prefix = f"{name}/"
        if not managed or any(a.startswith(prefix) for a in managed):
            return  # the usual case, answered by the first record
        named = {a.split("/", 1)[0] for a in managed if not a.startswith(("profile/",
                                                                          "repository/"))}
        named.discard("global")
        if len(named) != 1:
            return
        other = named.pop()
        self.problems.append(
            f"{_at(self.desired, address)}{address}: its store's records name profile "
            f"'{other}': the profile was renamed to '{other}' through another global config "
            f"(another machine sharing this store?), and this machine's still names it "
            f"'{name}'. Rename it here too: declare profile/{other} with "
            f"`moved: [{{from: profile/{name}, to: profile/{other}}}]` in stackctl.yaml (as "
            "the project that renamed it does) and apply")

    def _rename_profiles(self, live: Live) -> Live:
        """``live`` with what ``moved:`` renames among profiles renamed (entry, store URL,
        active profile, every record), so the rest of the plan compares the manifests
        against the renamed profiles; a rename change for each."""
        from dataclasses import replace

        from stackctl.plan import moves

        profiles = dict(live.profiles)
        config = live.config
        gbooks = moves.Books(dict(live.books.managed), dict(live.books.owners),
                             dict(live.books.applied))
        for move in self.desired.moves:
            if move.source.kind != "profile":
                continue
            old, new = move.source.name, move.target.name
            source, target = str(move.source), str(move.target)
            lp, there = profiles.get(old), profiles.get(new)
            if lp is None or lp.config is None:
                already = there is not None and there.config is not None
                declared = self.desired.profiles.get(new)
                if (source not in gbooks.managed or already or target in gbooks.managed
                        or declared is None or declared.settings is None
                        or declared.external):
                    self._nothing_to_rename(move, source in gbooks.managed, already)
                elif lp is not None and lp.state is not None:  # its store is still there
                    self.problems.append(
                        f"{move.location}: moved: {source} → {target}: {source} is missing "
                        "from the global config but its store is still in its directory "
                        f"(profiles/{old} in the config directory); apply once declaring "
                        f"{source} (listing it again with that store), then rename it")
                elif not self._foreign_move(source, gbooks.managed, gbooks.owners):
                    self._record_only_move(move)
                continue
            if self._foreign_move(source, gbooks.managed, gbooks.owners):
                continue
            if there is not None and (there.config is not None or there.state is not None):
                self.problems.append(f"{move.location}: moved: {source} → {target}: both "
                                     "exist live; delete one or drop the move")
                continue
            after = moves.renamed_profile(lp.config, new, live.root,
                                          moves.declared_store_url(self.desired, new))
            occupied = moves.occupied_store_dir(lp.config, after, live.root)
            if occupied is not None:
                self.problems.append(f"{move.location}: moved: {source} → {target}: its store "
                                     f"would move to {occupied}, which already exists; move "
                                     "that away or drop the move")
                continue
            self.reads[source] = compare.print_of(compare.profile_view(lp.config))
            self.changes.append(Change(
                key=move.source, action="rename",
                before={"store_url": lp.config.store_url} if after.store_url != lp.config.store_url
                else None,
                after={"to": target, **({"store_url": after.store_url}
                                         if after.store_url != lp.config.store_url else {})}))
            books = None
            if lp.books is not None:
                store_books = moves.Books(dict(lp.books.managed), dict(lp.books.owners),
                                          dict(lp.books.applied))
                moves.rename_profile_books(store_books, old, new)
                books = replace(lp.books, managed=store_books.managed,
                                owners=store_books.owners, applied=store_books.applied)
            del profiles[old]
            profiles[new] = replace(lp, config=after, books=books)
            active = config.activated_profile == old
            moves.rename_profile_globals(gbooks, lp.config, after, active)
            config = replace(config, activated_profile=new if active
                             else config.activated_profile,
                             profiles={**{n: p for n, p in config.profiles.items() if n != old},
                                       new: after})
            self.renamed_profiles[old] = new
        books = replace(live.books, managed=gbooks.managed, owners=gbooks.owners,
                        applied=gbooks.applied)
        return replace(live, config=config, books=books, profiles=profiles)

    def _moved_stack(self, profile: str, stack: str | None,
                     lp: LiveProfile | None) -> str | None:
        """The live active ``stack``, or its new name if a move renames it (or renamed it:
        an apply interrupted after the store's commit leaves the old name active)."""
        live = lp.state.stacks if lp is not None and lp.state is not None else {}
        for move in self.desired.moves:
            if (stack is not None and move.source == Address.stack(profile, stack)
                    and (stack in live or move.target.name in live)):
                return move.target.name
        return stack

    def _moves(self, profile: str, live_state: ProfileState, managed: Mapping[str, str],
               owners: Mapping[str, str]) -> tuple[ProfileState, dict[str, str],
                                                   dict[str, str]]:
        """Rename what ``moved:`` renames in the live snapshot (and its bookkeeping), so
        the rest of the plan compares the manifests against the renamed objects."""
        from stackctl.plan import moves

        books = moves.Books(dict(managed), dict(owners), {
            a: r for a, r in self.records.items() if Address.parse(a).profile == profile})
        for move in self.desired.moves:
            if move.source.profile != profile or move.source.kind == "profile":
                continue
            source, target = str(move.source), str(move.target)
            gone = not moves.exists(live_state, move.source)
            if gone and move.source.kind == "stack" and moves.exists(live_state, move.target):
                self.renamed_stacks[(profile, move.source.name)] = move.target.name
            if gone and (source not in books.managed or target in books.managed
                         or moves.exists(live_state, move.target)
                         or not self._declared(move.target)):
                self._nothing_to_rename(move, source in books.managed,
                                        moves.exists(live_state, move.target))
                continue
            if self._foreign_move(source, books.managed, books.owners):
                continue
            if move.source.kind == "stack":
                self.renamed_stacks[(profile, move.source.name)] = move.target.name
            if gone:
                self._record_only_move(move)
                continue
            if moves.exists(live_state, move.target):
                self.problems.append(f"{move.location}: moved: {source} → {target}: both "
                                     "exist live; delete one or drop the move")
                continue
            before = (compare.stack_view(live_state.stacks[move.source.name])
                      if move.source.kind == "stack"
                      else compare.component_view(live_state.components[move.source.key]))
            self.reads[source] = compare.print_of(before)
            users = (set() if move.source.kind == "stack" else
                     _users(list(live_state.stacks.values())).get(move.source.key, set()))
            self.changes.append(Change(key=move.source, action="rename",
                                       after={"to": target},
                                       impact=self._impact(profile, users)))
            live_state = moves.rename(live_state, books, move.source, move.target)
        self.records.update(books.applied)
        return live_state, books.managed, books.owners

    def _record_only_move(self, move: Any) -> None:
        """A source deleted outside stackctl, still in the bookkeeping: its record follows,
        the target is created. Apply moves the record, then records the created target over
        it: the old name's deletion is reported (drift) now, and never again."""
        source, target = str(move.source), str(move.target)
        self.notes.append(self._move_note(
            move, f"moved: {source} exists only in stackctl's bookkeeping (deleted outside "
                  f"stackctl); its record moves to {target}, which is created"))
        self.reads[source] = None
        self.changes.append(Change(key=move.source, action="rename",
                                   after={"to": target, "record_only": True}))

    def _declared(self, address: Address) -> bool:
        """``address`` (a component or stack) is declared in the manifests."""
        dp = self.desired.profiles.get(str(address.profile))
        if dp is None:
            return False
        return (address.name in dp.stacks if address.kind == "stack"
                else address.key in dp.components)

    @staticmethod
    def _move_note(move: Any, message: str) -> Mapping[str, Any]:
        return {"file": move.location.path, "line": move.location.line,
                "column": move.location.column, "severity": "note", "rule": MOVED_RULE,
                "message": message}

    def _nothing_to_rename(self, move: Any, recorded: bool, already: bool) -> None:
        """A move whose source is not live: a note saying where it is (if anywhere)."""
        where = ("only in stackctl's bookkeeping, not live" if recorded
                 else "neither live nor in stackctl's bookkeeping")
        if already:
            where += f" ({move.target} does: already renamed)"
        self.notes.append(self._move_note(move, f"moved: {move.source} exists {where}; "
                                                "nothing to rename"))

    def _foreign_move(self, source: str, managed: Mapping[str, str],
                      owners: Mapping[str, str]) -> bool:
        """The source is another project's: never renamed here (listed as foreign)."""
        owner = owners.get(source)
        if source in managed and owner is not None and owner != self.owner:
            self.foreign.append((source, owner))
            return True
        return False

    def _mine(self, address: str, managed: Mapping[str, str],
              owners: Mapping[str, str]) -> bool:
        """Managed by stackctl for this project (or for no named project)."""
        return address in managed and owners.get(address, self.owner) == self.owner

    def _external(self, profile: str, dp: DesiredProfile, live_state: ProfileState) -> None:
        """Every external component and stack must exist live."""
        for ctype, cname in sorted(dp.external_components):
            if (ctype, cname) not in live_state.components:
                address = str(Address.component(profile, ctype, cname))
                self.problems.append(
                    f"{_at(self.desired, address)}{address}: the external component "
                    f"'{cname}' ({ctype.value}) does not exist live")
        for sname in sorted(dp.external_stacks):
            if sname not in live_state.stacks:
                address = str(Address.stack(profile, sname))
                self.problems.append(f"{_at(self.desired, address)}{address}: the external "
                                     f"stack '{sname}' does not exist live")

    def _resources(self, profile: str, dp: DesiredProfile, live_state: ProfileState,
                   managed: Mapping[str, str], owners: Mapping[str, str]) -> None:
        prune = self.prune
        customs = {**live_state.flavors, **dp.flavors}
        after_stacks: dict[str, Stack] = dict(live_state.stacks)
        after_components = dict(live_state.components)
        for fkey in sorted({*dp.flavors, *live_state.flavors}):
            mine, theirs = dp.flavors.get(fkey), live_state.flavors.get(fkey)
            full = compare.flavor_view(mine) if mine else None
            self._emit(Address.flavor(profile, *fkey),
                       compare.flavor_view(theirs) if theirs else None, full,
                       managed=managed, full_after=full, deletable=True, owners=owners)
        # stacks first (to know what stays), then components with their impact
        for name in sorted({*dp.stacks, *live_state.stacks} - dp.external_stacks):
            mine_s, theirs_s = dp.stacks.get(name), live_state.stacks.get(name)
            key = Address.stack(profile, name)
            if mine_s is not None:
                after_stacks[name] = mine_s
            elif self._mine(str(key), managed, owners) and prune:
                after_stacks.pop(name, None)
            full = compare.stack_view(mine_s) if mine_s else None
            self._emit(key, compare.stack_view(theirs_s) if theirs_s else None, full,
                       managed=managed, full_after=full, deletable=True, owners=owners)
        users = _users([*after_stacks.values(), *live_state.stacks.values()])
        for ckey in sorted({*dp.components, *live_state.components} - dp.external_components):
            mine_c, theirs_c = dp.components.get(ckey), live_state.components.get(ckey)
            key = Address.component(profile, *ckey)
            if mine_c is not None:
                after_components[ckey] = mine_c
            elif self._mine(str(key), managed, owners) and prune:
                after_components.pop(ckey, None)
                staying = {n: after_stacks[n] for n in users.get(ckey, ()) if n in after_stacks}
                for problem in rules.component_delete_problems(ckey[0], ckey[1], ProfileState(
                        after_components, after_stacks), staying):
                    self.problems.append(f"{key}: {problem.message}")
            hidden = compare.sensitive_paths(
                ckey[0], [c.flavor for c in (mine_c, theirs_c) if c], customs)
            full = compare.component_view(mine_c) if mine_c else None
            self._emit(key, compare.component_view(theirs_c) if theirs_c else None, full,
                       hidden=hidden, managed=managed, full_after=full, deletable=True,
                       impact=self._impact(profile, users.get(ckey, set())), owners=owners)
        after = ProfileState(after_components, after_stacks, customs)
        for stack in after_stacks.values():
            for problem in rules.stack_problems(stack, after):
                self.problems.append(f"{Address.stack(profile, stack.name)}: {problem.message}")

    def _impact(self, profile: str, stacks: set[str]) -> tuple[str, ...]:
        if not stacks:
            return ()
        live, desired = self.live, self.desired
        cfg = live.config.profile(profile)
        dp = desired.profiles.get(profile)
        active_stack = (dp.settings.active_stack
                        if dp and dp.settings and dp.settings.active_stack
                        else cfg.active_stack if cfg else None)
        out = []
        for stack in sorted(stacks):
            marks = []
            if active_stack == stack:
                glob = (desired.active_profile or live.config.activated_profile) == profile
                marks.append("globally active" if glob else f"active in profile '{profile}'")
            for path, repo in live.repositories.items():
                if (repo and repo.active_profile_name == profile
                        and repo.active_stack_name == stack):
                    marks.append(f"active in repository {path}")
            out.append(f"stack '{stack}'" + (f" ({', '.join(marks)})" if marks else ""))
        return tuple(out)

    def _repositories(self) -> None:
        desired, live = self.desired, self.live
        for path in sorted({*desired.repositories, *live.repositories}):
            want = desired.repositories.get(path)
            have = live.repositories.get(path)
            before = ({"active_profile": have.active_profile_name,
                       "active_stack": have.active_stack_name} if have else None)
            if want is None and have is not None and self._follow_rename(path, have, before):
                continue
            if want is None and str(Address.repository(path)) not in live.books.managed:
                continue  # read only to follow a rename (the one plan runs in): not listed
            after = None
            if want is not None:
                profile = want.active_profile or desired.active_profile or DEFAULT
                dp = desired.profiles.get(profile)
                stack = want.active_stack or (dp.settings.active_stack if dp and dp.settings
                                              else None) or DEFAULT
                after = {"active_profile": profile, "active_stack": stack}
            self._emit(Address.repository(path), before, after, managed=live.books.managed,
                       full_after=after, owners=live.books.owners)


    def _follow_rename(self, path: str, have: Any, before: Mapping[str, Any] | None) -> bool:
        """An undeclared repository whose active stack a move renames follows it, in the
        same apply (its record too, if stackctl manages it); True when it does."""
        named = have.active_profile_name
        new_profile = self.renamed_profiles.get(named) if named else None
        profile = new_profile or named or self.live.config.activated_profile
        stack = have.active_stack_name
        new_stack = self.renamed_stacks.get((profile, stack)) if profile and stack else None
        if before is None or (new_profile is None and new_stack is None):
            return False
        key = Address.repository(path)
        after = {"active_profile": new_profile or named, "active_stack": new_stack or stack}
        why = [f"follows the rename of {Address.of_profile(str(named))}"] if new_profile else []
        if new_stack is not None:
            why.append(f"follows the rename of {Address.stack(str(profile), str(stack))}")
        self.reads[str(key)] = compare.print_of(before)
        self.changes.append(Change(
            key=key, action="update", before=before, after=after,
            fields=compare.field_changes(before, after, frozenset()), impact=tuple(why)))
        return True


def _order(change: Change) -> tuple[int, int, str]:
    if change.action == "rename":  # first in its store's commit: later changes see new names
        # a profile's rename first of all: the renames inside it name it by its new name
        return (0, PHASES["profile"] if change.kind == "profile" else PHASES["flavor"],
                change.address)
    phase = PHASES["profile-settings"] if (change.kind == "profile"
                                           and change.action == "update") else PHASES[change.kind]
    if change.action == "delete":
        return (1, -phase, change.address)
    return (0, phase, change.address)


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
    if live_url == want_url or (resolved[0] == resolved[1] and resolved[0] is not None):
        return None
    unset = [u[4:] for u, r in zip((live_url, want_url), resolved, strict=True) if r is None]
    if unset:
        return f"cannot tell whether it is the same database: ${unset[0]} is not set"
    return f"{redact_url(str(resolved[0]))} → {redact_url(str(resolved[1]))}"


def _at(desired: DesiredState, address: str) -> str:
    """``file:line:col: `` of the manifest declaring ``address`` (plan errors are located)."""
    doc = desired.sources.get(address)
    return f"{doc.locate(('metadata', 'name'))}: " if doc else ""


def _users(stacks: list[Stack]) -> dict[tuple[ComponentType, str], set[str]]:
    """component → the stacks naming it, built once (not a scan per component)."""
    index: dict[tuple[ComponentType, str], set[str]] = {}
    for stack in stacks:
        for ctype, name in stack.components.items():
            index.setdefault((ctype, name), set()).add(stack.name)
    return index
