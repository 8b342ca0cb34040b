"""Live configuration → manifests that, planned again, give no changes.

Manifests read as people write them: keys in the usual order (apiVersion,
kind, metadata, spec; type, flavor, config), no value equal to its flavor's
default, and nothing that only holds on this machine (a profile's default
components, whose files live in the global config directory, nor a default
store URL): the compiler supplies all of those again. Secret values are not
written: each becomes ``{{ env.VAR }}`` in a ``.yaml.j2`` file, and the
variables to set are returned, so exported files can go to git. Existing
files are never overwritten unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl import flavors
from stackctl.compiler.schemas import API_VERSION
from stackctl.defaults import is_machine_default
from stackctl.errors import AlreadyExistsError
from stackctl.model import Component, CustomFlavor, ProfileConfig, ProfileState
from stackctl.stores import yamlio
from stackctl.stores.urls import env_var_of
from stackctl.workspace import Workspace, open_store


@dataclass(frozen=True)
class ExportedFile:
    name: str  # e.g. team.yaml, or team.yaml.j2 when it holds secrets
    text: str


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)  # written (none for stdout)
    secret_vars: list[str] = field(default_factory=list)
    text: str | None = None  # all documents, when exported to stdout


def _env_name(*parts: str) -> str:
    return "STACKCTL_SECRET_" + "_".join(re.sub(r"[^A-Za-z0-9]", "_", p).upper() for p in parts)


def _doc(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def profile_documents(ws: Workspace, profile: ProfileConfig, state: ProfileState,
                      secret_vars: list[str]) -> list[dict[str, Any]]:
    store: dict[str, Any] = {"type": profile.store_type}
    if profile.store_type == "sql":
        var = env_var_of(profile.store_url)
        if var:
            store["urlFromEnv"] = var
        elif profile.store_url != ws.default_store_url(profile.name, "sql"):
            store["url"] = profile.store_url
    spec: dict[str, Any] = {"store": store}
    if profile.active_stack:
        spec["activeStack"] = profile.active_stack
    meta = {"name": profile.name}
    docs = [_doc("Profile", meta, spec)]
    inside = {"name": "", "profile": profile.name}
    for (ctype, name), custom in sorted(state.flavors.items()):
        docs.append(_doc("Flavor", {**inside, "name": name},
                         {"type": ctype.value, "source": custom.source,
                          "configSchema": dict(custom.config_schema)}))
    for (ctype, name), comp in sorted(state.components.items()):
        if is_machine_default(comp, ws.root):
            continue
        docs.append(_doc("Component", {**inside, "name": name},
                         {"type": ctype.value, "flavor": comp.flavor,
                          "config": _config(profile.name, comp, state.flavors, secret_vars)}))
    for name, stack in sorted(state.stacks.items()):
        docs.append(_doc("Stack", {**inside, "name": name},
                         {"components": {t.value: c
                                         for t, c in sorted(stack.components.items())}}))
    return docs


def _config(profile: str, comp: Component, custom: dict[Any, CustomFlavor] | Any,
            secret_vars: list[str]) -> dict[str, Any]:
    """The config as written by hand: no flavor defaults, secrets as placeholders."""
    hidden = flavors.sensitive_fields(comp.type, comp.flavor, custom)
    defaults = flavors.defaults_of(comp.type, comp.flavor, custom)
    config: dict[str, Any] = {}
    for key, value in sorted(comp.config.items()):
        if key in defaults and defaults[key] == value:
            continue  # the compiler fills it in again
        if key in hidden and flavors.hidden(value) == flavors.SENSITIVE:
            var = _env_name(profile, comp.type.value, comp.name, key)
            secret_vars.append(var)
            config[key] = _PLACEHOLDER.format(var)
        else:
            config[key] = value
    return config


def render(ws: Workspace, profiles: list[str] | None = None
           ) -> tuple[list[ExportedFile], list[str]]:
    """The files an export writes (none written), and the secret variables they need."""
    ws.ensure_initialized()
    cfg = ws.config()
    names = profiles if profiles is not None else sorted(cfg.profiles)
    files: list[ExportedFile] = []
    secret_vars: list[str] = []
    for name in names:
        profile = ws.profile(name)
        before = len(secret_vars)
        docs = profile_documents(ws, profile, open_store(profile).load(), secret_vars)
        text = _dump_all(docs)
        if len(secret_vars) > before:
            files.append(ExportedFile(f"{name}.yaml.j2", _as_template(text)))
        else:
            files.append(ExportedFile(f"{name}.yaml", text))
    if profiles is None and cfg.activated_profile:
        files.append(ExportedFile("global.yaml", _dump_all([_doc(
            "GlobalConfig", {"name": "global"}, {"activeProfile": cfg.activated_profile})])))
    return files, secret_vars


def export(ws: Workspace, out: Path | None, profiles: list[str] | None = None,
           *, force: bool = False) -> ExportResult:
    """Write the manifests under ``out``, or return them as one text when ``out`` is None.

    Without ``force`` an existing file (either suffix of a profile's file, as
    both would be read as manifests) stops the export before anything is written.
    """
    files, secret_vars = render(ws, profiles)
    if out is None:
        templated = any(f.name.endswith(".j2") for f in files)
        texts = [f.text if f.name.endswith(".j2") or not templated else _as_template(f.text)
                 for f in files]
        return ExportResult([], secret_vars, "---\n".join(texts))
    if not force:
        for exported in files:
            stem = exported.name.removesuffix(".j2")
            for candidate in (out / stem, out / f"{stem}.j2"):
                if candidate.exists():
                    raise AlreadyExistsError(
                        f"{candidate} already exists; nothing was exported.",
                        hint="Pass --force to overwrite it, or choose another directory "
                             "with -o.")
    out.mkdir(parents=True, exist_ok=True)
    result = ExportResult([], secret_vars)
    for exported in files:
        path = out / exported.name
        other = out / (exported.name.removesuffix(".j2") if exported.name.endswith(".j2")
                       else f"{exported.name}.j2")
        other.unlink(missing_ok=True)  # --force: the profile's file may change suffix
        path.write_text(exported.text)
        result.files.append(path)
    return result


def _dump_all(docs: list[dict[str, Any]]) -> str:
    return b"---\n".join(yamlio.dump(doc, sort_keys=False) for doc in docs).decode()


# A secret's place in the dumped YAML, replaced by a Jinja expression afterwards.
_PLACEHOLDER = "__stackctl_secret__{}__"
_SECRET = re.compile(r"'?__stackctl_secret__([A-Za-z0-9_]+)__'?")
_JINJA = re.compile(r"\{[{%#]")


def _as_template(text: str) -> str:
    """The dumped YAML as a Jinja template that renders back to the same values.

    Secrets become ``{{ env.VAR | tojson }}`` (a JSON string is YAML, whatever
    quotes the value holds); Jinja delimiters in other values are escaped.
    """
    text = _JINJA.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)
    return _SECRET.sub(lambda m: "{{ env." + m.group(1) + " | tojson }}", text)
