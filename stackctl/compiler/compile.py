"""The compile pipeline: discover → render → load → validate → desired state.

Every problem in every file becomes a Diagnostic; nothing stops at the first.
Schema checks pick the kind's (and the flavor's) schema first, which is far
cheaper than one ``oneOf`` over all kinds.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl import flavors, rules, schema_check
from stackctl.compiler.desired import DesiredProfile, DesiredState, add_document, address_of
from stackctl.compiler.diagnostics import Diagnostic
from stackctl.compiler.load import Document
from stackctl.compiler.project import Inputs, Project, ProjectFileError, load_project
from stackctl.compiler.schemas import API_VERSION, KINDS, kind_validator, manifest_schema
from stackctl.defaults import DEFAULT, implicit_state
from stackctl.errors import Location, ManifestError, StackctlError
from stackctl.gc_pause import gc_paused
from stackctl.model import Address, ComponentType, CustomFlavor, ProfileState
from stackctl.schema_errors import SchemaProblem, document_problem
from stackctl.schema_errors import quoted as _value
from stackctl.schema_errors import where as _where

if TYPE_CHECKING:
    from stackctl.compiler.load_ahead import LoadAhead

_NOT_FOUND = frozenset({"unknown-profile", "dangling-reference", "stack-unknown-component"})


@dataclass
class Compiled:
    project: Project
    desired: DesiredState
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    documents: int = 0
    # YAML files without a stackctl document (docker-compose, Kubernetes...): not read on
    skipped: list[Path] = field(default_factory=list)
    # the environments checked, when validate checked several
    environments: tuple[str, ...] = ()
    # the project (its file, or the inputs naming it) failed: no manifest was read
    project_failed: bool = False

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def compile_manifests(inputs: Inputs, cwd: Path | None = None,
                      environ: Mapping[str, str] | None = None, *, offline: bool = False,
                      every_environment: bool = False, allow_empty: bool = False,
                      follow_outside: bool = False, policies: bool = True) -> Compiled:
    """Compile the manifests inputs name; every problem becomes a Diagnostic.

    ``offline`` (validate): an unset ``env.X`` is a placeholder, not an error.
    ``every_environment``: without ``inputs.env``, check each environment the project
    declares (untemplated files are read once). ``allow_empty``: finding no manifest
    is no error. ``follow_outside``: read symlinks that resolve outside the project.
    ``policies=False``: leave Policy manifests unevaluated (`plan` evaluates them
    itself, with the live objects).
    """
    # Loading allocates a great many small dicts and frees almost none (plan pauses
    # the cyclic GC itself, around this and more).
    with gc_paused():
        return _compile_manifests(inputs, cwd, environ, offline=offline,
                                  every_environment=every_environment,
                                  allow_empty=allow_empty, follow_outside=follow_outside,
                                  policies=policies)


def _compile_manifests(inputs: Inputs, cwd: Path | None, environ: Mapping[str, str] | None,
                       *, offline: bool, every_environment: bool, allow_empty: bool,
                       follow_outside: bool, policies: bool) -> Compiled:
    from stackctl.compiler.discover import discover

    base = (cwd or Path.cwd()).resolve()
    try:
        project = load_project(inputs, cwd)
    except StackctlError as exc:
        return _failed(exc, base)
    result = Compiled(project=project, desired=DesiredState())
    try:
        found = discover(list(project.manifest_paths), root=project.root,
                         follow_outside=follow_outside, exclude=project.exclude)
    except ManifestError as exc:
        result.diagnostics.append(Diagnostic.from_error(exc, str(project.root)))
        return result
    refused = [Diagnostic(Location(str(path)), SYMLINK_OUTSIDE,
                          f"symlink resolves outside the project ({project.root}): not read",
                          hint="pass --follow-symlinks-outside to read it (only if you trust "
                          "where it points)") for path in found.outside]
    names = project.environments if every_environment and inputs.env is None else ()
    # files are kept loaded only to be compiled again, once per environment
    reader = _Reader(project.declared_manifests, os.environ if environ is None else environ,
                     offline, keep=len(names) >= 2)
    if len(names) < 2:
        lean = None
        if reader.prefetch(found.files):
            try:
                reader.load_ahead(found.files, project.variables)
                lean = _compile_lean(project, found.files, reader)
            finally:
                reader.close()
        # else a Flavor or a Policy manifest (or the word): compiled whole
        result = lean or _compile_files(project, found.files, reader, policies)
    else:
        runs = []
        for name in names:
            try:
                runs.append((name, _compile_files(load_project(replace(inputs, env=name), cwd),
                                                  found.files, reader, policies)))
            except StackctlError as exc:
                return _failed(exc, base)
        result = _merge(runs)
    result.diagnostics.extend(refused)
    if not result.files and not result.diagnostics and not allow_empty:
        shown = ", ".join(_shown(p, base) for p in project.manifest_paths) or _shown(base, base)
        result.diagnostics.append(Diagnostic(
            Location(str(project.manifest_paths[0] if project.manifest_paths else base)),
            "no-manifests", f"no stackctl manifests found under {shown}",
            hint="manifests are YAML documents with `apiVersion: stackctl/v1`; "
            "`validate --allow-empty` accepts finding none"))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


SYMLINK_OUTSIDE = "symlink-outside"


def _shown(path: Path, base: Path) -> str:
    relative = os.path.relpath(path, base)
    return str(path) if relative.startswith("..") else relative


def _failed(exc: StackctlError, base: Path) -> Compiled:
    # Without its project file nothing else can be read the way the user meant.
    failed = Compiled(project=Project(root=base, manifest_paths=()), desired=DesiredState(),
                      project_failed=True)
    problems = exc.problems if isinstance(exc, ProjectFileError) else [
        Diagnostic.from_error(exc, str(base))]
    failed.diagnostics.extend(sorted(problems, key=Diagnostic.sort_key))
    return failed


def _fresh(project: Project) -> Compiled:
    return Compiled(project=project, desired=DesiredState(owner=project.name,
                                                          moves=project.moves))


def _load_each(project: Project, files: list[Path], reader: _Reader,
               result: Compiled) -> Iterator[list[Document]]:
    """Each manifest file's documents, as loaded; files, skipped files, loading problems
    and the count of documents go into ``result``."""
    for path in files:
        loaded = reader.load(path, project.variables)
        if not loaded.manifest:
            result.skipped.append(path)
            continue
        result.files.append(path)
        result.diagnostics.extend(loaded.diagnostics)
        result.documents += len(loaded.documents)
        yield loaded.documents


def _compile_files(project: Project, files: list[Path], reader: _Reader,
                   policies: bool = True) -> Compiled:
    result = _fresh(project)
    docs = [doc for documents in _load_each(project, files, reader, result)
            for doc in documents]
    unreadable = bool(result.diagnostics)
    valid = [d for d in docs if _schema_ok(d, result.diagnostics)]
    _build(valid, project, result)
    _check(result, unreadable)
    if policies:
        from stackctl.policy.check import check_policies

        result.diagnostics.extend(check_policies(result.desired, project.default_profile))
    result.desired.release_documents()
    return result


def _compile_lean(project: Project, files: list[Path], reader: _Reader) -> Compiled | None:
    """``_compile_files`` file by file, for manifests without Flavor and Policy documents:
    each document is compiled as soon as it is loaded and only where it is kept
    (``Document.located_only``), so the parsed manifests never all take memory at
    once (most of a compile's peak: ~230 MiB at 100,000 components). Their order
    needs no flavor first, and no policy reads the manifests afterwards. None: a
    Flavor or Policy document was met after all (``Reader.prefetch`` looks for the
    words only); the caller then compiles the files whole.

    The same diagnostics in the same order: those of loading, of the schemas, of
    building, as ``_compile_files`` appends them.
    """
    result = _fresh(project)
    checked: list[Diagnostic] = []
    built: list[Diagnostic] = []
    seen: dict[str, Document] = {}
    naming: dict[str, Document] = {}
    for documents in _load_each(project, files, reader, result):
        for doc in documents:
            if not reader.schema_ok(doc, checked):
                continue
            if doc.data["kind"] in ("Flavor", "Policy"):
                return None
            address = _build_one(doc, project, result.desired, built, seen)
            if address is None:
                continue
            located = result.desired.sources[address] = seen[address] = doc.located_only()
            pname = address.partition("/")[0]
            if pname not in naming and doc.data["metadata"].get("profile"):
                naming[pname] = located
    unreadable = bool(result.diagnostics)
    result.diagnostics.extend(checked)
    result.diagnostics.extend(built)
    _check(result, unreadable, naming)
    return result


def _merge(runs: list[tuple[str, Compiled]]) -> Compiled:
    """One result for several environments: a problem found in every environment
    once, one found in some only with the environment named."""
    merged = runs[0][1]
    merged.environments = tuple(name for name, _ in runs)
    everywhere = set(merged.diagnostics).intersection(*(set(r.diagnostics) for _, r in runs))
    diagnostics: dict[Diagnostic, None] = {}
    for name, run in runs:
        for d in run.diagnostics:
            diagnostics[d if d in everywhere else
                        replace(d, message=f"{d.message} (environment {name})")] = None
    merged.diagnostics = list(diagnostics)
    return merged


@dataclass(frozen=True)
class _Loaded:
    documents: list[Document]
    diagnostics: list[Diagnostic]
    manifest: bool  # holds stackctl documents (or is declared a manifest), else skipped


class _Reader:
    """Reads each manifest file; untemplated files once, however many environments."""

    def __init__(self, declared: bool, environ: Mapping[str, str], offline: bool, *,
                 keep: bool = True) -> None:
        self.declared = declared
        self.environ = environ
        self.offline = offline
        self.keep = keep  # keep what was loaded and read, to compile it again
        self._plain: dict[Path, _Loaded] = {}
        self._raw: dict[Path, bytes] = {}
        self._ahead: LoadAhead[_Loaded] | None = None
        # (file, document index) -> what the child found checking it against its schema
        self._checks: dict[tuple[Path, int], tuple[bool, list[Diagnostic]]] = {}

    def prefetch(self, files: list[Path]) -> bool:
        """Read every file ahead (held until loaded); False when one may hold a Flavor
        or Policy document (its bytes have the word), with the rest left unread."""
        from stackctl.compiler.read import read_regular

        for path in files:
            if path in self._raw:
                continue
            try:
                raw = read_regular(path)
            except StackctlError:
                continue  # loading it says so
            if b"Flavor" in raw or b"Policy" in raw:
                return False
            self._raw[path] = raw
        return True

    def load_ahead(self, files: list[Path], variables: Mapping[str, Any]) -> None:
        """With many prefetched files, a forked child loads and schema-checks the latter
        ones meanwhile (``load_ahead``); ``load`` and ``schema_ok`` then use its results."""
        from stackctl.compiler import load_ahead

        share = load_ahead.child_share([(p, len(self._raw[p])) for p in files
                                        if p in self._raw and not p.name.endswith(".j2")])
        if share and load_ahead.can_fork():
            self._ahead = load_ahead.LoadAhead(
                share, lambda path: self._load(path, variables, False),
                lambda loaded: loaded.documents, _schema_ok)

    def close(self) -> None:
        """Stop a child still loading ahead (the compile ended early)."""
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None

    def schema_ok(self, doc: Document, diagnostics: list[Diagnostic]) -> bool:
        """``_schema_ok``, or what the child loading ahead found of ``doc``."""
        found = self._checks.pop((doc.path, doc.index), None) if self._checks else None
        if found is None:
            return _schema_ok(doc, diagnostics)
        diagnostics.extend(found[1])
        return found[0]

    def load(self, path: Path, variables: Mapping[str, Any]) -> _Loaded:
        template = path.name.endswith(".j2")
        if not template and path in self._plain:
            return self._plain[path]
        loaded = self._from_child(path) or self._load(path, variables, template)
        if not template and self.keep:
            self._plain[path] = loaded
        return loaded

    def _from_child(self, path: Path) -> _Loaded | None:
        """What the child loading ahead loaded of ``path`` (its checks kept for
        ``schema_ok``), or None: load it here."""
        taken = self._ahead.take(path) if self._ahead and self._ahead.wants(path) else None
        if taken is None:
            return None
        loaded, checks = taken
        self._raw.pop(path, None)
        self._checks.update(((d.path, d.index), c)
                            for d, c in zip(loaded.documents, checks, strict=True))
        return loaded

    def _load(self, path: Path, variables: Mapping[str, Any], template: bool) -> _Loaded:
        from stackctl.compiler.load import decode_utf8, load_text
        from stackctl.compiler.read import read_regular

        raw = self._raw.get(path) if template and self.keep else self._raw.pop(path, None)
        try:
            if raw is None:
                raw = read_regular(path)
                if template and self.keep:
                    self._raw[path] = raw
            text = decode_utf8(raw, path)
            if template:
                from stackctl.compiler.render import render_template

                text = render_template(path, text, variables, self.environ,
                                       offline=self.offline)
            docs = load_text(text, path, rendered=template, from_file=not template)
        except StackctlError as exc:
            problems = getattr(exc, "problems", None) or [Diagnostic.from_error(exc, str(path))]
            # A file that cannot be read or parsed is a manifest unless it clearly is not.
            manifest = self.declared or raw is None or b"stackctl/" in raw
            return _Loaded([], problems if manifest else [], manifest)
        diagnostics: list[Diagnostic] = []
        if self.offline:
            for d in docs:
                if d.rendered:
                    diagnostics.extend(_placeholders_in_names(d))
        if self.declared:
            return _Loaded(docs, diagnostics, True)
        if not any(_is_stackctl(d) for d in docs):
            return _Loaded([], [], False)
        # Beside stackctl documents, one without an apiVersion is a manifest missing
        # it (reported as such later); one with another apiVersion is foreign YAML.
        foreign = [d for d in docs if isinstance(d.data.get("apiVersion"), str)
                   and not _is_stackctl(d)]
        diagnostics.extend(Diagnostic(
            d.locate(("apiVersion",)), "mixed-file",
            "this file mixes stackctl manifests with other YAML: this document has "
            + _api_version_text(d.data), hint="keep stackctl manifests in files of their own")
            for d in foreign)
        return _Loaded([d for d in docs if d not in foreign], diagnostics, True)


def _check(result: Compiled, unreadable: bool,
           naming: dict[str, Document] | None = None) -> None:
    """The semantic checks of the built desired state, into ``result``'s diagnostics."""
    semantic = Compiled(result.project, result.desired)
    _semantic(semantic, naming)
    # What a file that could not be read declares is not missing: with one, "not
    # found" is left out (it would only echo that failure), every other rule stays.
    result.diagnostics.extend(d for d in semantic.diagnostics
                              if not (unreadable and d.rule in _NOT_FOUND))


def _is_stackctl(doc: Document) -> bool:
    version = doc.data.get("apiVersion")
    return isinstance(version, str) and version.startswith("stackctl/")


def _api_version_text(data: Mapping[str, Any]) -> str:
    """The apiVersion a document has, said in words (never a Python repr)."""
    if "apiVersion" not in data:
        return "no apiVersion"
    version = data["apiVersion"]
    if isinstance(version, str):
        return f"apiVersion '{version}'"
    return "an empty apiVersion" if version is None else f"a {_json_type(version)} apiVersion"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "mapping"
    return "list" if isinstance(value, list) else "null"


# Where a value is a name: a placeholder there cannot be validated (nor applied as is).
_NAME_PATHS = (("kind",), ("apiVersion",), ("metadata", "name"), ("metadata", "profile"),
               ("spec", "type"), ("spec", "flavor"), ("spec", "activeStack"),
               ("spec", "activeProfile"))


def _is_name_path(path: Sequence[str | int]) -> bool:
    return tuple(path) in _NAME_PATHS or (len(path) == 3 and tuple(path[:2]) == (
        "spec", "components"))


def _placeholders_in_names(doc: Document) -> list[Diagnostic]:
    """Unset ``env.X`` placeholders in names or keys: validation cannot know them."""
    from stackctl.compiler.render import PLACEHOLDER

    found: list[Diagnostic] = []

    def visit(value: Any, path: list[str | int]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                match = PLACEHOLDER.search(key)
                if match:
                    found.append(_placeholder_diagnostic(doc.locate_key([*path, key]), match[1],
                                                         f"a key in {_where(path)}", "a key"))
                visit(item, [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, [*path, index])
        elif isinstance(value, str) and _is_name_path(path):
            match = PLACEHOLDER.search(value)
            if match:
                found.append(_placeholder_diagnostic(doc.locate(path), match[1], _where(path),
                                                     "a name"))

    visit(doc.data, [])
    return found


def _placeholder_diagnostic(where: Location, variable: str, field_name: str,
                            needs: str) -> Diagnostic:
    hint = f"export {variable}=… to validate this value"
    if needs in ("a name", "a key"):
        hint += ", or take it from vars (stackctl.yaml)"
    elif needs in ("a number", "an integer"):
        hint += f", or convert it: {{{{ env.{variable} | int }}}}"
    return Diagnostic(where, "template-placeholder",
                      f"{field_name} takes env.{variable}, which is not set: validation puts "
                      f"a placeholder text there, and {field_name} needs {needs}", hint=hint)


_NEEDS = {"integer": "an integer", "number": "a number", "boolean": "true or false",
          "object": "a mapping", "array": "a list"}


def _placeholder_problem(instance: Any, path: Sequence[str | int], validator: str,
                         expected: Any, where: Location) -> Diagnostic | bool | None:
    """How a schema error on a value holding a placeholder is reported.

    False: not about a placeholder (report it as usual); None: drop it (a name
    already reported, or a pattern or length the real value may well meet); else
    the diagnostic to report instead.
    """
    from stackctl.compiler.render import PLACEHOLDER

    match = PLACEHOLDER.search(instance) if isinstance(instance, str) else None
    if match is None:
        return False
    if _is_name_path(path) or validator in ("pattern", "format", "minLength", "maxLength"):
        return None
    needs = (_NEEDS.get(str(expected), f"a value of type {expected}") if validator == "type"
             else "one of its allowed values")
    return _placeholder_diagnostic(where, match[1], _where(list(path)), needs)


def _schema_ok(doc: Document, diagnostics: list[Diagnostic]) -> bool:
    data = doc.data
    kind = data.get("kind")
    if data.get("apiVersion") != API_VERSION:
        where = doc.locate(("apiVersion",)) if "apiVersion" in data else doc.locate(())
        diagnostics.append(Diagnostic(where, "api-version",
                                      f"apiVersion must be '{API_VERSION}'; this document has "
                                      + _api_version_text(data)))
        return False
    if kind not in KINDS:
        where = doc.locate(("kind",)) if "kind" in data else doc.locate(())
        what = ("kind is missing" if "kind" not in data else
                f"unknown kind {_value(kind)}" if isinstance(kind, str) else
                f"kind must be text, found {_value(kind)}")
        diagnostics.append(Diagnostic(where, "unknown-kind", what,
                                      hint=f"Kinds: {', '.join(KINDS)}."))
        return False
    if schema_check.is_valid(f"kind/{kind}", manifest_schema(str(kind)), data):
        return True  # the common case, without building jsonschema's error objects
    ok = True
    for error in kind_validator(str(kind)).iter_errors(data):
        path = list(error.absolute_path)
        instead = _placeholder_problem(error.instance, path, error.validator,
                                       error.validator_value, doc.locate(path))
        if instead is None:
            continue
        ok = False
        diagnostics.append(instead if isinstance(instead, Diagnostic)
                           else schema_diagnostic(doc, document_problem(error)))
    return ok


def schema_diagnostic(doc: Document, problem: SchemaProblem) -> Diagnostic:
    """A schema problem, located in its document."""
    where = doc.locate_key(problem.path) if problem.at_key else doc.locate(problem.path)
    return Diagnostic(where, problem.rule, problem.message, problem.hint)


def _build(docs: list[Document], project: Project, result: Compiled) -> None:
    seen: dict[str, Document] = {}
    ordered = sorted(docs, key=lambda d: d.data["kind"] != "Flavor")  # flavors first
    for doc in ordered:
        _build_one(doc, project, result.desired, result.diagnostics, seen)


def _build_one(doc: Document, project: Project, desired: DesiredState,
               diagnostics: list[Diagnostic], seen: dict[str, Document]) -> str | None:
    """Add one schema-valid document to ``desired``: its address, or None for a duplicate
    (``seen``: address -> the document that declared it first)."""
    address = address_of(doc, project.default_profile)
    if address in seen:
        first = seen[address].locate(("metadata", "name"))
        where = (f"line {first.line}" if first.path == str(doc.path) else
                 f"{os.path.relpath(first.path, project.root)}:{first.line}")
        diagnostics.append(Diagnostic(
            doc.locate(("metadata", "name")), "duplicate-resource",
            f"{address} is already declared at {where}"))
        return None
    seen[address] = doc
    data = doc.data
    config: dict[str, Any] | None = None
    if data["kind"] == "Flavor" and not _flavor_ok(doc, diagnostics):
        # Still declared, so components of it do not cascade into "unknown flavor".
        doc = replace(doc, data={**data, "spec": {**data["spec"], "configSchema": {}}})
    if data["kind"] == "Component" and data["spec"].get("external") is not True:
        profile = data["metadata"].get("profile") or project.default_profile
        customs = desired.profile(profile).flavors
        # A component with a bad config is still declared: stacks naming it are fine.
        config = _component_config(doc, customs, diagnostics)
    add_document(desired, doc, project.default_profile, config)
    return address


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
    problems = 0
    for problem in flavors.config_errors(flavor, config):
        full = ("spec", "config", *problem.path)
        instead = _placeholder_problem(_at(config, problem.path), full, problem.validator,
                                       problem.expected, doc.locate(full))
        if instead is None:
            continue
        problems += 1
        diagnostics.append(instead if isinstance(instead, Diagnostic) else schema_diagnostic(
            doc, replace(problem, path=full,
                         message=f"{_where(full)}: {problem.message}")))
    return None if problems else flavors.with_defaults(flavor, config)


def _at(data: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _semantic(result: Compiled, naming: dict[str, Document] | None = None) -> None:
    desired, diags = result.desired, result.diagnostics
    declared = {name for name, p in desired.profiles.items() if p.declared}
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
    # Per profile, the first document that names it in metadata.profile (one pass;
    # ``naming``: found while compiling, for any address's first part).
    if naming is None:
        naming = {}
        for address, doc in desired.sources.items():
            pname = address.partition("/")[0]
            if pname not in naming and doc.data["metadata"].get("profile"):
                naming[pname] = doc
    for pname, profile in desired.profiles.items():
        if pname in naming:
            profile_ref(pname, naming[pname], ("metadata", "profile"))
        check_state = implicit_state(_with_external(profile))
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
            stacks = desired.profiles.get(repo.active_profile or DEFAULT)
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
    if name not in stacks and name != DEFAULT:
        diags.append(Diagnostic(doc.locate(path), "dangling-reference",
                                f"stack '{name}' is not declared in that profile",
                                hint=f"Declared stacks: {', '.join(sorted(stacks)) or '(none)'}."))
