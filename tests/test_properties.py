"""Round-trip properties of plan, apply and export, for generated valid manifest sets.

Each example is a fresh global config directory and a set of profiles whose
components (local, sqlite and s3 flavors, with random configs and secret
values) are used by stacks, with active stacks and an active profile:

- apply, then plan: no changes;
- apply twice: the second apply changes nothing;
- export, then plan the exported manifests: no changes;
- a plan's JSON read back from a saved plan file is the same plan.
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from stackctl import flavors
from stackctl.apply import apply_plan
from stackctl.compiler.project import Inputs
from stackctl.export import _env_name, export
from stackctl.plan import pipeline
from stackctl.plan.model import Plan
from stackctl.stores.files import atomic_write
from stackctl.workspace import Workspace

pytestmark = pytest.mark.slow
SETTINGS = settings(max_examples=25, deadline=None)
API = "stackctl/v1"

names = st.sampled_from(["a", "b", "main", "dev-1", "x.y", "team_2"])
words = st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=8)
# secrets with what breaks naive quoting: quotes, braces (Jinja), '#', ': ', unicode
secrets = st.text(alphabet=string.ascii_letters + string.digits + "'\"{}%#: -_/\\é",
                  min_size=1, max_size=16).map(lambda text: f"S3CR3T{text}")


@st.composite
def artifact_store(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"flavor": "local", "config": {"path": "/tmp/art/" + draw(words)}}
    config: dict[str, Any] = {"path": f"s3://{draw(words)}/{draw(words)}"}
    for key in ("key", "secret", "token"):
        if draw(st.booleans()):
            config[key] = draw(secrets)
    if draw(st.booleans()):
        config["client_kwargs"] = {"endpoint_url": f"http://{draw(words)}:9000"}
    return {"flavor": "s3", "config": config}


@st.composite
def metadata_store(draw: st.DrawFn) -> dict[str, Any]:
    config: dict[str, Any] = {"uri": f"/tmp/meta/{draw(words)}.db"}
    if draw(st.booleans()):
        config["upgrade_migration_enabled"] = draw(st.booleans())
    return {"flavor": "sqlite", "config": config}


@st.composite
def profile_docs(draw: st.DrawFn, profile: str) -> list[dict[str, Any]]:
    components: dict[str, list[str]] = {}
    docs: list[dict[str, Any]] = []
    kinds = {"artifact_store": artifact_store(), "metadata_store": metadata_store(),
             "orchestrator": st.just({"flavor": "local"})}
    for ctype, strategy in kinds.items():
        chosen = draw(st.lists(names, max_size=3, unique=True))
        components[ctype] = [*chosen, "default"]  # the implicit defaults count too
        for name in chosen:
            spec = {"type": ctype, **draw(strategy)}
            docs.append({"apiVersion": API, "kind": "Component",
                         "metadata": {"name": name, "profile": profile}, "spec": spec})
    stacks = draw(st.lists(names, max_size=3, unique=True))
    for name in stacks:
        members = {ctype: draw(st.sampled_from(choices)) for ctype, choices in components.items()}
        docs.append({"apiVersion": API, "kind": "Stack",
                     "metadata": {"name": name, "profile": profile},
                     "spec": {"components": members}})
    spec: dict[str, Any] = {"store": {"type": "local"}}
    active = draw(st.sampled_from([None, "default", *stacks]))
    if active:
        spec["activeStack"] = active
    docs.insert(0, {"apiVersion": API, "kind": "Profile", "metadata": {"name": profile},
                    "spec": spec})
    return docs


@st.composite
def manifest_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    profiles = draw(st.lists(st.sampled_from(["alpha", "beta", "gamma"]), min_size=1,
                             max_size=2, unique=True))
    docs = [doc for profile in profiles for doc in draw(profile_docs(profile))]
    active = draw(st.sampled_from([None, *profiles]))
    if active:
        docs.append({"apiVersion": API, "kind": "GlobalConfig", "metadata": {"name": "global"},
                     "spec": {"activeProfile": active}})
    return docs


# -- helpers ---------------------------------------------------------------------------------


@contextmanager
def world(docs: list[dict[str, Any]]) -> Iterator[tuple[Workspace, Path]]:
    """A fresh global config directory and the manifests written to a file."""
    with tempfile.TemporaryDirectory(prefix="stackctl-prop-") as tmp:
        root = Path(tmp)
        (root / "m").mkdir()
        (root / "m" / "manifests.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        yield Workspace(root / "config"), root


def make_plan(ws: Workspace, manifests: Path, environ: dict[str, str] | None = None) -> tuple[
        Plan, Any]:
    """The engine's own planning (what `stackctl plan` calls), in this test's world."""
    planned = pipeline.make_plan(Inputs(paths=(str(manifests),)), cwd=manifests, ws=ws,
                                 environ=environ or {})
    return planned.plan, planned.compiled.desired


def apply(ws: Workspace, manifests: Path) -> Plan:
    plan, desired = make_plan(ws, manifests)
    apply_plan(ws, plan, desired)
    return plan


def pending(plan: Plan) -> list[str]:
    """What an apply of this plan would still do (changes, and records to take over)."""
    return [f"{c.action} {c.address}" for c in plan.changes if c.action != "no-op" or c.adopt]


def zenml_files(ws: Workspace) -> dict[str, bytes]:
    """The files ZenML reads: everything but stackctl's own bookkeeping and locks."""
    return {str(p.relative_to(ws.root)): p.read_bytes() for p in sorted(ws.root.rglob("*"))
            if p.is_file() and ".stackctl" not in p.parts}


# -- the properties --------------------------------------------------------------------------


@SETTINGS
@given(manifest_sets())
def test_apply_then_plan_gives_no_changes(docs: list[dict[str, Any]]) -> None:
    with world(docs) as (ws, root):
        first = apply(ws, root / "m")
        assert first.has_changes
        again, _ = make_plan(ws, root / "m")
        assert pending(again) == []
        assert again.drift == ()


@SETTINGS
@given(manifest_sets())
def test_second_apply_changes_nothing(docs: list[dict[str, Any]]) -> None:
    with world(docs) as (ws, root):
        apply(ws, root / "m")
        before = zenml_files(ws)
        states = {name: ws.state(name) for name in ws.config().profiles}
        second = apply(ws, root / "m")
        assert pending(second) == []
        assert zenml_files(ws) == before
        assert {name: ws.state(name) for name in ws.config().profiles} == states


@SETTINGS
@given(manifest_sets())
def test_export_then_plan_gives_no_changes(docs: list[dict[str, Any]]) -> None:
    with world(docs) as (ws, root):
        apply(ws, root / "m")
        result = export(ws, root / "exported")
        environ: dict[str, str] = {}
        for name, profile in ws.config().profiles.items():
            for comp in ws.state(name).components.values():
                for key in flavors.sensitive_fields(comp.type, comp.flavor):
                    if comp.config.get(key) not in (None, ""):
                        environ[_env_name(profile.name, comp.type.value, comp.name, key)] = \
                            str(comp.config[key])
        assert sorted(environ) == sorted(result.secret_vars)
        event(f"{min(len(environ), 3)}+ secrets exported" if environ else "no secret")
        exported = "".join(p.read_text() for p in result.files)
        assert "S3CR3T" not in exported
        plan, _ = make_plan(ws, root / "exported", environ)
        assert not plan.has_changes, [c.address for c in plan.changes if c.action != "no-op"]


@SETTINGS
@given(manifest_sets(), st.booleans())
def test_plan_json_round_trips_through_a_plan_file(docs: list[dict[str, Any]],
                                                   applied_first: bool) -> None:
    with world(docs) as (ws, root):
        if applied_first:
            apply(ws, root / "m")
        plan, _ = make_plan(ws, root / "m")
        planfile = root / "plan.json"
        atomic_write(planfile, plan.to_json().encode(), private=True)
        assert "S3CR3T" not in planfile.read_text()
        again = Plan.from_dict(json.loads(planfile.read_text()))
        assert again == plan
        assert again.to_json() == plan.to_json()
