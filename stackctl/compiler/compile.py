"""The compile pipeline: discover → render → load → validate → desired state.

Every problem in every file becomes a Diagnostic; nothing stops at the first.
Schema checks pick the kind's (and the flavor's) schema first, which is far
cheaper than one ``oneOf`` over all kinds.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackctl import flavors, rules, schema_check
from stackctl.compiler.desired import DesiredProfile, DesiredState, add_document, address_of
from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document
from stackctl.compiler.project import Inputs, Project, ProjectFileError, load_project
from stackctl.compiler.schemas import API_VERSION, KINDS, kind_validator, manifest_schema
from stackctl.errors import Location, ManifestError, StackctlError
from stackctl.model import Address, ComponentType, CustomFlavor, ProfileState

IMPLICIT = "default"  # every profile starts with a 'default' stack and components
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
    result = Compiled(project=project, desired=DesiredState(owner=project.name))
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
        diagnostics.append(_schema_diagnostic(doc, error))
    return ok


def _schema_diagnostic(doc: Document, error: Any) -> Diagnostic:
    path = list(error.absolute_path)
    validator = error.validator
    if validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        key = extra[0] if extra else ""
        return Diagnostic(doc.locate_key([*path, key]), "unknown-field",
                          f"unknown field '{key}' in {_where(path)}",
                          hint=f"Allowed: {', '.join(sorted(allowed))}.")
    if validator == "required":
        message = error.message.replace("is a required property", "is required")
        return Diagnostic(doc.locate(path), "missing-field", f"{_where(path)}: {message}")
    if validator == "enum" and path[-2:] == ["spec", "type"]:
        return Diagnostic(doc.locate(path), "unknown-type",
                          f"unknown component type {error.instance!r}",
                          hint=f"Types: {', '.join(t.value for t in ComponentType)}.")
    if "propertyNames" in error.schema_path:  # the enum of stack slot names
        return Diagnostic(doc.locate_key([*path, error.instance]) if isinstance(
            error.instance, str) else doc.locate(path), "unknown-type",
            f"unknown component type {error.instance!r} in {_where(path)}",
            hint=f"Types: {', '.join(t.value for t in ComponentType)}.")
    if validator == "pattern" and path and path[-1] in ("name", "profile"):
        return Diagnostic(doc.locate(path), "invalid-name",
                          f"invalid name {error.instance!r} at {_where(path)}",
                          hint="Use letters, digits, '_', '-' and '.'.")
    if validator == "type":
        return Diagnostic(doc.locate(path), "wrong-type",
                          f"{_where(path)}: expected {error.validator_value}, found "
                          f"{type(error.instance).__name__}")
    return Diagnostic(doc.locate(path), "schema", f"{_where(path)}: {_schema_message(error)}")


def _schema_message(error: Any) -> str:
    """jsonschema's message, without quoting a mapping or a URL (they may hold secrets)."""
    instance = error.instance
    if error.absolute_path and error.absolute_path[-1] == "url":  # may hold a password
        return f"not a database URL of the form scheme://… ({error.validator})"
    if not isinstance(instance, (dict, list)):
        return str(error.message)
    alternatives = [sorted(s.get("required", [])) for s in error.validator_value
                    if isinstance(s, dict)] if error.validator in ("oneOf", "anyOf") else []
    if error.validator == "not" and isinstance(error.validator_value, dict):
        alternatives = [sorted(s.get("required", []))
                        for s in error.validator_value.get("anyOf", []) if isinstance(s, dict)]
        names = " or ".join(n for a in alternatives for n in a)
        return f"must not have {names}" if names else "matches a schema it must not match"
    if alternatives and all(len(a) == 1 for a in alternatives):
        names = ", ".join(a[0] for a in alternatives)
        return f"needs exactly one of {names}" if error.validator == "oneOf" else \
            f"needs one of {names}"
    return f"does not match the schema ({error.validator})"


def _where(path: list[Any]) -> str:
    return ".".join(map(str, path)) or "the document"


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
        if data["kind"] == "Component" and data["spec"].get("external") is not True:
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
    for path, message in problems:
        full = ("spec", "config", *path)
        where = doc.locate_key(full) if "unknown field" in message else doc.locate(full)
        diagnostics.append(Diagnostic(where, "flavor-config", f"{_where(list(full))}: {message}"))
    return None if problems else flavors.with_defaults(flavor, config)


def _semantic(result: Compiled) -> None:
    desired, diags = result.desired, result.diagnostics
    declared = {name for name, p in desired.profiles.items() if p.declared}
    known_profiles = declared | {IMPLICIT}

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
        check_state = _with_implicit(_with_external(profile))
        for stack in profile.stacks.values():
            doc = desired.sources[stack.address(pname)]
            for problem in rules.stack_problems(stack, check_state):
                diags.append(Diagnostic(doc.locate(problem.path), problem.rule,
                                        problem.message, problem.hint))
        settings = profile.settings
        if settings and settings.active_stack:
            _stack_ref(settings.active_stack, _stack_names(profile),
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
            stacks = desired.profiles.get(repo.active_profile or IMPLICIT)
            _stack_ref(repo.active_stack, _stack_names(stacks) if stacks else set(), doc,
                       ("spec", "activeStack"), diags)
    if desired.active_profile:
        profile_ref(desired.active_profile, desired.sources["global"], ("spec", "activeProfile"))


def _stack_names(profile: DesiredProfile) -> set[str]:
    return {*profile.stacks, *profile.external_stacks}


def _with_external(profile: DesiredProfile) -> ProfileState:
    """The profile's state with its external components, as far as manifests know them
    (type and name: enough for stack checks; ``plan`` checks they exist live)."""
    from stackctl.model import Component

    comps = dict(profile.components)
    for ctype, name in profile.external_components:
        comps.setdefault((ctype, name), Component(ctype, name, "(external)", "", {}))
    return ProfileState(components=comps, stacks=profile.stacks, flavors=profile.flavors)


def _stack_ref(name: str, stacks: Collection[str], doc: Document, path: tuple[str, ...],
               diags: list[Diagnostic]) -> None:
    if name not in stacks and name != IMPLICIT:
        diags.append(Diagnostic(doc.locate(path), "dangling-reference",
                                f"stack '{name}' is not declared in that profile",
                                hint=f"Declared stacks: {', '.join(sorted(stacks)) or '(none)'}."))


def _with_implicit(state: ProfileState) -> ProfileState:
    """Add the implicit 'default' components every profile is created with."""
    from stackctl.model import Component

    comps = dict(state.components)
    for ctype, flavor in ((ComponentType.ORCHESTRATOR, "local"),
                          (ComponentType.ARTIFACT_STORE, "local"),
                          (ComponentType.METADATA_STORE, "sqlite")):
        comps.setdefault((ctype, IMPLICIT), Component(ctype, IMPLICIT, flavor, "", {}))
    return ProfileState(components=comps, stacks=state.stacks, flavors=state.flavors)


def location_of(result: Compiled, address: str) -> Location | None:
    doc = result.desired.sources.get(address)
    return doc.locate(("metadata", "name")) if doc else None
