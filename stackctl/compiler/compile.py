"""The compile pipeline: discover → render → load → validate → desired state.

Every problem in every file becomes a Diagnostic; nothing stops at the first.
Schema checks pick the kind's (and the flavor's) schema first, which is far
cheaper than one ``oneOf`` over all kinds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackctl import flavors, rules, schema_check, schema_errors
from stackctl.compiler.desired import DesiredState, add_document, address_of
from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document
from stackctl.compiler.project import Inputs, Project, ProjectFileError, load_project
from stackctl.compiler.schemas import API_VERSION, KINDS, kind_validator, manifest_schema
from stackctl.defaults import DEFAULT, implicit_state
from stackctl.errors import ManifestError, StackctlError
from stackctl.model import Address, ComponentType, CustomFlavor
from stackctl.schema_errors import SchemaProblem, document_problem

_NOT_FOUND = frozenset({"unknown-profile", "dangling-reference", "stack-unknown-component"})


@dataclass
class Compiled:
    project: Project
    desired: DesiredState
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    documents: int = 0

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def compile_manifests(inputs: Inputs, cwd: Path | None = None,
                      environ: Mapping[str, str] | None = None) -> Compiled:
    from stackctl.compiler.discover import find_manifest_files

    try:
        project = load_project(inputs, cwd)
    except StackctlError as exc:
        # Without its project file nothing else can be read the way the user meant.
        base = (cwd or Path.cwd()).resolve()
        failed = Compiled(project=Project(root=base, manifest_paths=()), desired=DesiredState())
        problems = exc.problems if isinstance(exc, ProjectFileError) else [
            Diagnostic.from_error(exc, str(base))]
        failed.diagnostics.extend(sorted(problems, key=Diagnostic.sort_key))
        return failed
    result = Compiled(project=project, desired=DesiredState())
    try:
        result.files = find_manifest_files(list(project.manifest_paths))
    except ManifestError as exc:
        result.diagnostics.append(Diagnostic.from_error(exc, str(project.root)))
        return result
    docs: list[Document] = []
    for path in result.files:
        docs.extend(_load(path, project, environ, result.diagnostics))
    result.documents = len(docs)
    unreadable = bool(result.diagnostics)
    valid = [d for d in docs if _schema_ok(d, result.diagnostics)]
    _build(valid, project, result)
    semantic = Compiled(project, result.desired)
    _semantic(semantic)
    # What a file that could not be read declares is not missing: with one, "not
    # found" is left out (it would only echo that failure), every other rule stays.
    result.diagnostics.extend(d for d in semantic.diagnostics
                              if not (unreadable and d.rule in _NOT_FOUND))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _load(path: Path, project: Project, environ: Mapping[str, str] | None,
          diagnostics: list[Diagnostic]) -> list[Document]:
    from stackctl.compiler.load import decode_utf8, load_file, load_text

    try:
        if path.name.endswith(".j2"):
            from stackctl.compiler.render import render_template

            text = decode_utf8(path.read_bytes(), path)
            rendered = render_template(path, text, project.variables,
                                       os.environ if environ is None else environ)
            return load_text(rendered, path, rendered=True)
        return load_file(path)
    except StackctlError as exc:
        diagnostics.append(Diagnostic.from_error(exc, str(path)))
        return []


def _schema_ok(doc: Document, diagnostics: list[Diagnostic]) -> bool:
    data = doc.data
    kind = data.get("kind")
    if data.get("apiVersion") != API_VERSION:
        where = doc.locate(("apiVersion",)) if "apiVersion" in data else doc.locate(())
        diagnostics.append(Diagnostic(where, "api-version",
                                      f"apiVersion must be '{API_VERSION}', "
                                      f"found {data.get('apiVersion')!r}"))
        return False
    if kind not in KINDS:
        where = doc.locate(("kind",)) if "kind" in data else doc.locate(())
        diagnostics.append(Diagnostic(where, "unknown-kind", f"unknown kind {kind!r}",
                                      hint=f"Kinds: {', '.join(KINDS)}."))
        return False
    if schema_check.is_valid(f"kind/{kind}", manifest_schema(str(kind)), data):
        return True  # the common case, without building jsonschema's error objects
    ok = True
    for error in kind_validator(str(kind)).iter_errors(data):
        ok = False
        diagnostics.append(schema_diagnostic(doc, document_problem(error)))
    return ok


def schema_diagnostic(doc: Document, problem: SchemaProblem) -> Diagnostic:
    """A schema problem, located in its document."""
    where = doc.locate_key(problem.path) if problem.at_key else doc.locate(problem.path)
    return Diagnostic(where, problem.rule, problem.message, problem.hint)


def _build(docs: list[Document], project: Project, result: Compiled) -> None:
    desired = result.desired
    seen: dict[str, Document] = {}
    ordered = sorted(docs, key=lambda d: d.data["kind"] != "Flavor")  # flavors first
    for source in ordered:
        doc = source
        address = address_of(doc, project.default_profile)
        if address in seen:
            first = seen[address].locate(("metadata", "name"))
            where = (f"line {first.line}" if first.path == str(doc.path) else
                     f"{os.path.relpath(first.path, project.root)}:{first.line}")
            result.diagnostics.append(Diagnostic(
                doc.locate(("metadata", "name")), "duplicate-resource",
                f"{address} is already declared at {where}"))
            continue
        seen[address] = doc
        data = doc.data
        config: dict[str, Any] | None = None
        if data["kind"] == "Flavor" and not _flavor_ok(doc, result.diagnostics):
            # Still declared, so components of it do not cascade into "unknown flavor".
            doc = replace(doc, data={**data, "spec": {**data["spec"], "configSchema": {}}})
        if data["kind"] == "Component":
            profile = data["metadata"].get("profile") or project.default_profile
            customs = desired.profile(profile).flavors
            # A component with a bad config is still declared: stacks naming it are fine.
            config = _component_config(doc, customs, result.diagnostics)
        add_document(desired, doc, project.default_profile, config)


def _flavor_ok(doc: Document, diagnostics: list[Diagnostic]) -> bool:
    import jsonschema

    spec = doc.data["spec"]
    ctype = ComponentType(spec["type"])
    if (ctype, doc.data["metadata"]["name"]) in flavors.builtin_flavors():
        diagnostics.append(Diagnostic(
            doc.locate(("metadata", "name")), "flavor-clash",
            f"'{doc.data['metadata']['name']}' is a built-in {ctype.value} flavor",
            hint="Give the custom flavor a name of its own."))
        return False
    try:
        jsonschema.Draft202012Validator.check_schema(doc.data["spec"]["configSchema"])
    except jsonschema.SchemaError as exc:
        diagnostics.append(Diagnostic(doc.locate(("spec", "configSchema", *exc.path)),
                                      "invalid-flavor-schema",
                                      f"configSchema is not a valid JSON Schema: {exc.message}"))
        return False
    return True


def _component_config(doc: Document, customs: dict[tuple[ComponentType, str], CustomFlavor],
                      diagnostics: list[Diagnostic]) -> dict[str, Any] | None:
    spec = doc.data["spec"]
    ctype = ComponentType(spec["type"])
    try:
        flavor = flavors.get(ctype, spec["flavor"], customs)
    except StackctlError as exc:
        diagnostics.append(Diagnostic(doc.locate(("spec", "flavor")), "unknown-flavor",
                                      exc.message, exc.hint))
        return None
    config = dict(spec.get("config") or {})
    problems = flavors.config_errors(flavor, config)
    for problem in problems:
        full = ("spec", "config", *problem.path)
        diagnostics.append(schema_diagnostic(doc, replace(
            problem, path=full, message=f"{schema_errors.where(full)}: {problem.message}")))
    return None if problems else flavors.with_defaults(flavor, config)


def _semantic(result: Compiled) -> None:
    desired, diags = result.desired, result.diagnostics
    declared = {name for name, p in desired.profiles.items() if p.settings is not None}
    known_profiles = declared | {DEFAULT}

    def profile_ref(name: str | None, doc: Document, path: tuple[str, ...]) -> bool:
        if name is None or name in known_profiles:
            return True
        diags.append(Diagnostic(doc.locate(path), "unknown-profile",
                                f"profile '{name}' is not declared",
                                hint="Declare it with a Profile manifest."))
        return False

    project = result.project
    if (project.default_profile not in known_profiles and project.default_profile_at
            and project.default_profile in desired.profiles):
        diags.append(Diagnostic(project.default_profile_at, "unknown-profile",
                                f"default profile '{project.default_profile}' is not declared",
                                hint="Declare it with a Profile manifest."))
    for pname, profile in desired.profiles.items():
        for address, doc in desired.sources.items():
            if address.startswith(f"{pname}/") and doc.data["metadata"].get("profile"):
                profile_ref(pname, doc, ("metadata", "profile"))
                break
        check_state = implicit_state(profile.state())
        for stack in profile.stacks.values():
            doc = desired.sources[stack.address(pname)]
            for problem in rules.stack_problems(stack, check_state):
                diags.append(Diagnostic(doc.locate(problem.path), problem.rule,
                                        problem.message, problem.hint))
        settings = profile.settings
        if settings and settings.active_stack:
            _stack_ref(settings.active_stack, profile.stacks,
                       desired.sources[str(Address.of_profile(pname))],
                       ("spec", "activeStack"), diags)
    for key, repo in desired.repositories.items():
        doc = desired.sources[str(Address.repository(key))]
        root = result.project.root
        if repo.path != root and root not in repo.path.parents:
            diags.append(Diagnostic(doc.locate(("spec", "path")), "repository-outside-root",
                                    f"repository path {repo.path} is outside the manifest root "
                                    f"{root}"))
        if profile_ref(repo.active_profile, doc, ("spec", "activeProfile")) and repo.active_stack:
            stacks = desired.profiles.get(repo.active_profile or DEFAULT)
            _stack_ref(repo.active_stack, stacks.stacks if stacks else {}, doc,
                       ("spec", "activeStack"), diags)
    if desired.active_profile:
        profile_ref(desired.active_profile, desired.sources["global"], ("spec", "activeProfile"))


def _stack_ref(name: str, stacks: Mapping[str, Any], doc: Document, path: tuple[str, ...],
               diags: list[Diagnostic]) -> None:
    if name not in stacks and name != DEFAULT:
        diags.append(Diagnostic(doc.locate(path), "dangling-reference",
                                f"stack '{name}' is not declared in that profile",
                                hint=f"Declared stacks: {', '.join(sorted(stacks)) or '(none)'}."))
