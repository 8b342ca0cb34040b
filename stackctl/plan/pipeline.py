"""The engine's entry points for the GitOps commands: inputs → compile → live → plan.

Each ``stackctl`` verb that reads manifests makes one call here and hands the
value it gets to a view: ``make_plan`` (plan, diff, drift), ``save_plan``
(``plan -o``), ``prepare_apply``/``execute`` (apply, with a question between
them). What a saved plan records of its inputs, and how ``apply PLANFILE``
takes them again, lives here too. Nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl.compiler.project import Inputs
from stackctl.errors import StaleStateError, UsageError
from stackctl.gc_pause import gc_paused

Step = Callable[[str], None]  # told what the engine does now (a progress display)


def _silent(text: str) -> None:
    """No progress display."""


if TYPE_CHECKING:
    from stackctl.apply import ApplyResult
    from stackctl.compiler.compile import Compiled
    from stackctl.compiler.desired import DesiredState
    from stackctl.compiler.diagnostics import Diagnostic
    from stackctl.plan.model import Plan
    from stackctl.workspace import Workspace


@dataclass(frozen=True)
class Planned:
    """A plan and the compiled manifests it was computed from."""

    plan: Plan
    compiled: Compiled
    # what does not stop the plan but a person should read: warnings of the manifests
    # and of policies (``audit`` notes are kept in the plan, for JSON and markdown)
    notices: tuple[Diagnostic, ...] = ()
    # what the manifests say, when driftMode warn planned from ``compiled.desired`` with
    # kept live values: apply records the manifests' values of kept fields from it
    manifests: DesiredState | None = None
    # address -> (drift mode, what the plan does with it: plan.drift_mode.OUTCOMES), for
    # each drifted object (``diff``, the drift report), when some mode is not remediate
    drift_outcomes: Mapping[str, tuple[str, str]] | None = None


@dataclass(frozen=True)
class Prepared:
    """What ``apply`` will carry out; ``saved``: it is a reviewed plan file's."""

    planned: Planned
    saved: bool

    @property
    def plan(self) -> Plan:
        return self.planned.plan

    @property
    def needs_work(self) -> bool:
        """False when applying would change nothing (nothing to create, update or adopt)."""
        return self.plan.has_changes or any(c.adopt for c in self.plan.changes)


def inputs(paths: Iterable[str] = (), env: str | None = None, variables: Iterable[str] = (),
           var_files: Iterable[str] = (), cwd: Path | None = None) -> Inputs:
    """The command line's manifest inputs, paths resolved against ``cwd`` (default: here)."""
    variables = tuple(variables)
    parsed: tuple[tuple[str, str], ...] = ()
    if variables:  # the template renderer is imported only when there is a --var
        from stackctl.compiler.render import parse_var

        parsed = tuple(parse_var(v) for v in variables)
    base = cwd or Path.cwd()
    return Inputs(paths=tuple(str((base / p).resolve()) for p in paths), env=env,
                  var_files=tuple(str((base / f).resolve()) for f in var_files),
                  variables=parsed)


def compile_or_fail(given: Inputs, cwd: Path | None = None,
                    environ: Mapping[str, str] | None = None, *,
                    policies: bool = True) -> Compiled:
    """Compile; any error raises ``CompileError`` carrying every diagnostic."""
    from stackctl.compiler.compile import compile_manifests

    compiled = compile_manifests(given, cwd, environ, policies=policies)
    _fail_on_errors(compiled.diagnostics)
    return compiled


def _fail_on_errors(diagnostics: Iterable[Diagnostic], hint: str | None = None) -> None:
    """Raise ``CompileError`` with every diagnostic when one is an error."""
    from stackctl.compiler.diagnostics import CompileError

    diagnostics = list(diagnostics)
    if any(d.severity == "error" for d in diagnostics):
        error = CompileError(diagnostics)
        error.hint = hint or error.hint
        raise error


def make_plan(given: Inputs, *, prune: bool = False, cwd: Path | None = None,
              plan_id: str | None = None, ws: Workspace | None = None,
              environ: Mapping[str, str] | None = None, step: Step = _silent,
              max_deletes: int | None = None, targets: tuple[str, ...] = (),
              excludes: tuple[str, ...] = (), gate_drift: bool = False,
              report_drift: bool = False, force: bool = False,
              drift_mode: str | None = None, drift_modes: Mapping[str, str] | None = None,
              adopt: tuple[str, ...] = ()) -> Planned:
    """Compile, read live, check policies against it, compute. ``plan_id`` reuses a saved
    plan's id (its salt), so desired fingerprints can be compared with the saved plan's;
    ``ws`` and ``environ`` default to this process's; ``step`` is told each stage as it
    starts; ``targets``/``excludes`` narrow the plan; ``max_deletes`` caps deletions.
    ``gate_drift`` (plan, apply; not the drift report) checks the drift mode — the
    project file's and the Profile manifests', or ``drift_mode`` and ``drift_modes`` (a saved
    plan's) — unless ``force``: refuse fails, warn keeps drifted fields live
    (plan.drift_mode.kept_fields); ``adopt`` keeps those drifted addresses' live values
    (plan.drift_mode.adopt_live). ``report_drift`` (diff, the drift report) plans under the
    modes as plan does (warn keeps) but never refuses and records nothing: it tells in
    ``Planned.drift_outcomes`` what plan would do with each drifted object."""
    from dataclasses import replace

    from stackctl.plan.compute import compute_plan
    from stackctl.plan.delete_cap import check_delete_cap
    from stackctl.plan.drift_mode import (
        DEFAULT_MODE,
        adopt_live,
        check_drift_mode,
        drift_outcomes,
        keep_live,
        kept_fields,
        profile_modes,
        with_kept,
    )
    from stackctl.plan.live import read_live
    from stackctl.plan.target import narrow
    from stackctl.policy.live import as_records, plan_policies
    from stackctl.workspace import Workspace

    cwd = cwd or Path.cwd()
    # Building the desired and live states allocates millions of small objects and
    # frees almost none; the cyclic GC would rescan them again and again for nothing.
    with gc_paused():
        step("Reading the manifests…")
        compiled = compile_or_fail(given, cwd, environ, policies=False)  # with live, below
        ws = ws or Workspace()
        if ws.globals.exists():
            ws.ensure_initialized()
        step("Reading the live configuration…")
        repositories = list(compiled.desired.repositories)
        if compiled.desired.moves:  # the repository here follows a renamed active stack
            from stackctl.config import repository as repo_config

            here = repo_config.discover(cwd).repository
            if here is not None:
                repositories.append(str(here.root))
        # a renamed profile is read under its old name (plan.compute renames it)
        profiles = [*compiled.desired.profiles, *(m.source.name for m in compiled.desired.moves
                                                  if m.source.kind == "profile")]
        live = read_live(ws, profiles, repositories)
        policy = plan_policies(ws, compiled.desired, compiled.project.default_profile, live)
        _fail_on_errors(policy, hint="Policies are checked against the live objects "
                                     "(oldObject) here; fix the manifests or the policy.")
        step("Computing the plan…")
        recorded = recorded_inputs(given, cwd)
        if max_deletes is not None:  # a saved plan keeps the override it was made with
            recorded["max_deletes"] = max_deletes
        mode = drift_mode or compiled.project.drift_mode
        modes = dict(profile_modes(compiled.desired) if drift_modes is None else drift_modes)
        if gate_drift and mode != DEFAULT_MODE:  # a saved plan keeps the modes it was made in
            recorded["drift_mode"] = mode
        if gate_drift and modes:
            recorded["drift_modes"] = modes
        if gate_drift and force:
            recorded["force"] = True
        if adopt:
            recorded["adopt"] = list(adopt)
        plan = compute_plan(compiled.desired, live, inputs=recorded,
                            prune=prune, plan_id=plan_id)
        if adopt:  # planned again with the adopted live values as desired (apply writes it)
            compiled = replace(compiled, desired=adopt_live(compiled.desired, live, plan,
                                                            adopt))
            plan = compute_plan(compiled.desired, live, inputs=recorded, prune=prune,
                                plan_id=plan.id)
        kept = kept_fields(plan, mode, force, modes) if gate_drift or report_drift else ()
        manifests = None
        if kept:  # planned again with the kept live values as desired; recorded as drift
            manifests = compiled.desired
            compiled = replace(compiled, desired=keep_live(
                compiled.desired, live, {k.address: [f.path for f in k.fields] for k in kept}))
            plan = compute_plan(compiled.desired, live, inputs=recorded, prune=prune,
                                plan_id=plan.id)
        plan = narrow(plan, compiled.desired, targets, excludes)
        if kept:
            plan = with_kept(plan, kept)
        check_delete_cap(plan, max_deletes, compiled.project.max_deletes)
        if gate_drift:
            check_drift_mode(plan, mode, force, modes)
        # only where a mode other than remediate is set: other reports stay as they were
        outcomes = (drift_outcomes(plan, mode, force, modes) if report_drift and any(
            m != DEFAULT_MODE for m in (mode, *modes.values())) else None)
        if policy:
            plan = replace(plan, policy=(*plan.policy, *as_records(policy, cwd)))
    notices = tuple(d for d in [*compiled.diagnostics, *policy] if d.severity == "warning")
    return Planned(plan, compiled, notices, manifests, outcomes)


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file (owner-only: it may name secrets' variables)."""
    from stackctl.plan import saved
    from stackctl.stores.files import atomic_write

    atomic_write(path, saved.dumps(plan), private=True)


def prepare_apply(targets: Iterable[str], env: str | None = None,
                  variables: Iterable[str] = (), var_files: Iterable[str] = (),
                  prune: bool = False, step: Step = _silent, *,
                  max_deletes: int | None = None, only: tuple[str, ...] = (),
                  excludes: tuple[str, ...] = (), force: bool = False,
                  adopt: tuple[str, ...] = ()) -> Prepared:
    """``apply TARGETS``: a fresh plan of the manifests, or — when the one target is a
    plan file — that file's changes, checked against a plan computed now from its
    recorded inputs (not applied before, live state unchanged, the same changes)."""
    from stackctl.apply import check_fresh, check_not_applied, check_same_changes
    from stackctl.plan import saved as saved_plans
    from stackctl.plan.drift_mode import DEFAULT_MODE
    from stackctl.workspace import Workspace

    targets = tuple(targets)
    planfile = saved_plans.plan_file_among(targets)
    if planfile is None:
        return Prepared(make_plan(inputs(targets, env, variables, var_files), prune=prune,
                                  step=step, max_deletes=max_deletes, targets=only,
                                  excludes=excludes, gate_drift=True, force=force,
                                  adopt=adopt),
                        saved=False)
    saved = saved_plans.load(planfile)
    if (env or tuple(var_files) or prune or max_deletes is not None or only or excludes
            or force or adopt):
        raise UsageError("A saved plan carries its own inputs; give only the plan file "
                         "(and its --var values).")
    inp = saved.inputs
    given = Inputs(paths=tuple(inp["paths"]), env=inp["env"], var_files=tuple(inp["var_files"]),
                   variables=saved_variables(inp, variables))
    check_not_applied(Workspace(), saved)
    fresh = make_plan(given, prune=saved.prune,
                      cwd=Path(inp["cwd"]) if inp.get("cwd") else None, plan_id=saved.id,
                      step=step, max_deletes=inp.get("max_deletes"),
                      targets=tuple(inp.get("targets", ())),
                      excludes=tuple(inp.get("excludes", ())), gate_drift=True,
                      force=bool(inp.get("force", False)),
                      drift_mode=inp.get("drift_mode", DEFAULT_MODE),
                      drift_modes=dict(inp.get("drift_modes", {})),
                      adopt=tuple(inp.get("adopt", ())))
    check_fresh(saved, fresh.plan)
    check_same_changes(saved, fresh.plan)
    return Prepared(fresh, saved=True)  # the very changes of the file, as computed now


def execute(prepared: Prepared, step: Step = _silent) -> ApplyResult:
    """Carry out a prepared apply."""
    from stackctl.apply import apply_plan
    from stackctl.workspace import Workspace

    changes = sum(1 for c in prepared.plan.changes if c.action != "no-op" or c.adopt)
    step(f"Applying {changes} change{'s' * (changes != 1)}…")
    # rendering and writing a large store allocates as the plan did: without the pause,
    # the first full collection would rescan everything the plan built (~0.1 s at 10,000)
    with gc_paused():
        return apply_plan(Workspace(), prepared.plan, prepared.planned.compiled.desired,
                          manifests=prepared.planned.manifests)


# -- what a saved plan records of its inputs ---------------------------------------------


def recorded_inputs(given: Inputs, cwd: Path) -> dict[str, Any]:
    """What a saved plan records of its inputs. ``--var`` values may be secrets, so
    only their names and salted fingerprints are kept; `apply PLANFILE` takes them
    again and checks them (``saved_variables``)."""
    import secrets

    salt = secrets.token_hex(16)
    # cwd: with no path given the manifests (and stackctl.yaml) are found from it
    return {"paths": list(given.paths), "env": given.env, "var_files": list(given.var_files),
            "variables": [{"name": k, "print": _var_print(salt, v)} for k, v in given.variables],
            "variables_salt": salt, "cwd": str(cwd)}


def _var_print(salt: str, value: str) -> str:
    from stackctl.fingerprint import fingerprint

    return fingerprint({"salt": salt, "value": value})


def saved_variables(inp: Mapping[str, Any], given: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The plan's ``--var`` values, given again at apply time and checked."""
    from stackctl.compiler.render import parse_var

    values = dict(parse_var(v) for v in given)
    recorded = {v["name"]: v["print"] for v in inp.get("variables", [])}
    missing = sorted(recorded.keys() - values.keys())
    extra = sorted(values.keys() - recorded.keys())
    if missing or extra:
        raise UsageError(
            "A saved plan needs exactly the --var variables it was made with."
            + (f" Missing: {', '.join(missing)}." if missing else "")
            + (f" Not in the plan: {', '.join(extra)}." if extra else ""),
            hint="The plan file keeps only their fingerprints; pass each again with --var.")
    differ = sorted(k for k, v in values.items()
                    if _var_print(str(inp.get("variables_salt", "")), v) != recorded[k])
    if differ:
        raise StaleStateError(f"--var values differ from the plan's: {', '.join(differ)}.",
                              hint="Run `stackctl plan` again with the new values.")
    return tuple(sorted(values.items()))
