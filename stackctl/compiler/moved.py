"""The project file's ``moved:`` list: renames that keep the object (Terraform's ``moved``).

Each entry is ``{from: ADDRESS, to: ADDRESS}`` of one component or stack in one
profile, or of a profile (``profile/old`` → ``profile/new``). Conflicting moves (two
from one source, two to one target, a chain or a cycle, a move addressed inside a
profile that is itself renamed) are refused here, located in the project file;
whether a source exists is the planner's question (the compiler knows nothing of
the live state). A move inside a renamed profile names it by its new name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document
from stackctl.errors import Location, UsageError
from stackctl.model import Address, check_name

RULE = "moved"


@dataclass(frozen=True)
class Move:
    source: Address
    target: Address
    location: Location  # the entry's ``from:`` in the project file


def load_moves(doc: Document) -> tuple[tuple[Move, ...], list[Diagnostic]]:
    """The moves of the project file ``doc`` and every problem with them, located."""
    moves: list[Move] = []
    problems: list[Diagnostic] = []

    def bad(index: int, key: str, message: str) -> None:
        problems.append(Diagnostic(doc.locate(("moved", index, key)), RULE, message))

    entries: list[Any] = list(doc.data.get("moved") or [])
    for index, entry in enumerate(entries):
        parsed: dict[str, Address] = {}
        for key in ("from", "to"):
            try:
                address = Address.parse(str(entry[key]))
            except ValueError:
                bad(index, key, f"moved: {entry[key]!r} is not a component or stack address")
                continue
            if address.kind not in ("component", "stack", "profile"):
                bad(index, key, f"moved: {address} is a {address.kind}; only components, "
                                "stacks and profiles can be moved")
                continue
            if address.kind == "profile":
                try:
                    check_name("profile", address.name)
                except UsageError:
                    bad(index, key, f"moved: {address}: invalid profile name")
                    continue
            parsed[key] = address
        if len(parsed) < 2:
            continue
        source, target = parsed["from"], parsed["to"]
        profiles = "profile" in (source.kind, target.kind)
        if profiles and source.kind != target.kind:
            bad(index, "to", f"moved: {source} → {target}: a profile is renamed to a "
                             "profile")
        elif not profiles and (source.kind, source.profile, source.type) != (
                target.kind, target.profile, target.type):
            bad(index, "to", f"moved: {source} → {target}: a move renames within one profile, "
                             "keeping the kind (and component type)")
        elif source == target:
            bad(index, "to", f"moved: {source} is moved to itself")
        else:
            moves.append(Move(source, target, doc.locate(("moved", index, "from"))))
    problems.extend(_conflicts(moves))
    return tuple(moves), problems


def _conflicts(moves: list[Move]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    first_from: dict[Address, Move] = {}
    first_to: dict[Address, Move] = {}
    for move in moves:
        if move.source in first_from:
            found.append(Diagnostic(move.location, RULE,
                                    f"moved: {move.source} is moved twice (also at "
                                    f"{first_from[move.source].location})"))
        first_from.setdefault(move.source, move)
        if move.target in first_to:
            found.append(Diagnostic(move.location, RULE,
                                    f"moved: two moves to {move.target} (also at "
                                    f"{first_to[move.target].location})"))
        first_to.setdefault(move.target, move)
    renamed = {m.source.name: m for m in moves if m.source.kind == "profile"}
    for move in moves:
        profile_move = renamed.get(str(move.source.profile))
        if move.source.kind != "profile" and profile_move is not None:
            new = profile_move.target.name
            found.append(Diagnostic(move.location, RULE,
                                    f"moved: {move.source} is in profile '{move.source.profile}'"
                                    f", which is renamed to '{new}' (at "
                                    f"{profile_move.location}); address this move inside the "
                                    f"renamed profile: {new}/{move.source.in_profile} → "
                                    f"{new}/{move.target.in_profile}"))
    for move in moves:
        # a chain (a → b, b → c) or a cycle: one object would be renamed twice in one plan
        if move.target in first_from:
            found.append(Diagnostic(move.location, RULE,
                                    f"moved: {move.target} is both the target of this move and "
                                    f"the source of another (at "
                                    f"{first_from[move.target].location}); chains and cycles "
                                    "are not allowed, move straight to the final name"))
    return found
