"""Live configuration → manifests that, planned again, give no changes.

Secret values are not written: each becomes ``{{ env.VAR }}`` in a ``.yaml.j2``
file, and an SQL profile's URL (it may hold a password) becomes ``urlFromEnv``
with a named variable; the variables to set are returned, so exported files
can go to git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl import flavors
from stackctl.errors import NotFoundError
from stackctl.model import ProfileConfig, ProfileState
from stackctl.stores import yamlio
from stackctl.workspace import Workspace, open_store

API = "stackctl/v1"


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    secret_vars: list[str] = field(default_factory=list)


def _env_name(*parts: str) -> str:
    return "STACKCTL_SECRET_" + "_".join(re.sub(r"[^A-Za-z0-9]", "_", p).upper() for p in parts)


def store_url_var(profile: str) -> str:
    """The variable an exported SQL profile reads its URL from."""
    return "STACKCTL_STORE_URL_" + re.sub(r"[^A-Za-z0-9]", "_", profile).upper()


def profile_documents(profile: ProfileConfig, state: ProfileState,
                      secret_vars: list[str]) -> list[dict[str, Any]]:
    store: dict[str, Any] = {"type": profile.store_type}
    if profile.store_type == "sql":
        if profile.store_url.startswith("env:"):
            store["urlFromEnv"] = profile.store_url[4:]
        else:  # never the URL itself: it may hold a password
            var = store_url_var(profile.name)
            secret_vars.append(var)
            store["urlFromEnv"] = var
    spec: dict[str, Any] = {"store": store}
    if profile.active_stack:
        spec["activeStack"] = profile.active_stack
    docs: list[dict[str, Any]] = [{"apiVersion": API, "kind": "Profile",
                                   "metadata": {"name": profile.name}, "spec": spec}]
    for (ctype, name), custom in sorted(state.flavors.items()):
        docs.append({"apiVersion": API, "kind": "Flavor",
                     "metadata": {"name": name, "profile": profile.name},
                     "spec": {"type": ctype.value, "source": custom.source,
                              "configSchema": dict(custom.config_schema)}})
    for (ctype, name), comp in sorted(state.components.items()):
        try:
            hidden = flavors.get(ctype, comp.flavor, state.flavors).sensitive
        except NotFoundError:
            hidden = frozenset()
        config: dict[str, Any] = {}
        for key, value in sorted(comp.config.items()):
            if key in hidden and value not in (None, ""):
                var = _env_name(profile.name, ctype.value, name, key)
                secret_vars.append(var)
                config[key] = _PLACEHOLDER.format(var)
            else:
                config[key] = value
        docs.append({"apiVersion": API, "kind": "Component",
                     "metadata": {"name": name, "profile": profile.name},
                     "spec": {"type": ctype.value, "flavor": comp.flavor, "config": config}})
    for name, stack in sorted(state.stacks.items()):
        docs.append({"apiVersion": API, "kind": "Stack",
                     "metadata": {"name": name, "profile": profile.name},
                     "spec": {"components": {t.value: c
                                             for t, c in sorted(stack.components.items())}}})
    return docs


def export(ws: Workspace, out: Path, profiles: list[str] | None = None) -> ExportResult:
    ws.ensure_initialized()
    cfg = ws.config()
    names = profiles if profiles is not None else sorted(cfg.profiles)
    result = ExportResult()
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        profile = ws.profile(name)
        before = len(result.secret_vars)
        docs = profile_documents(profile, open_store(profile).load(), result.secret_vars)
        # a secret in a component config makes a template; the store URL's variable does not
        templated = any(v != store_url_var(name) for v in result.secret_vars[before:])
        path = out / f"{name}{'.yaml.j2' if templated else '.yaml'}"
        text = _dump_all(docs)
        path.write_bytes(_as_template(text.decode()).encode() if templated else text)
        result.files.append(path)
    if profiles is None and cfg.activated_profile:
        path = out / "global.yaml"
        path.write_bytes(_dump_all([{"apiVersion": API, "kind": "GlobalConfig",
                                     "metadata": {"name": "global"},
                                     "spec": {"activeProfile": cfg.activated_profile}}]))
        result.files.append(path)
    return result


def _dump_all(docs: list[dict[str, Any]]) -> bytes:
    return b"---\n".join(yamlio.dump(doc) for doc in docs)


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
