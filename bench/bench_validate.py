"""`stackctl validate` of 1,000 manifest files against two baselines of the same run.

Writes 1,000 small manifest files (one document each, 10-20 lines: Profiles,
Stacks, and Components of flavors local/s3 artifact stores, sqlite/mysql
metadata stores, local orchestrators) to a temporary directory, then times,
as real subprocesses interleaved run by run:

  bare parse        a Python process that walks the directory and parses every
                    file with PyYAML's libyaml ``CSafeLoader`` (process start included)
  bare Typer        the same walk and parse as a one-command Typer CLI: the floor any
                    Typer command pays (Typer and Click imported, arguments parsed)
  stackctl          ``stackctl validate DIR``
  check-jsonschema  ``check-jsonschema --schemafile combined.json FILES...`` with the
                    repository's own schemas (schemas/manifests/*.json, and every
                    built-in flavor schema embedded under ``$defs`` so that each
                    Component's ``spec.config`` is checked by its flavor's schema,
                    the same work stackctl does). Two combined schemas:
                    ``oneOf`` over the kinds (as the issue measured it) and
                    ``if``/``then`` picking the kind's schema by ``kind`` first.

Targets: stackctl <= 0.25 x check-jsonschema, <= 3 x bare parse (issue 4);
stackctl <= 1.6 x the bare Typer command (issue 9).

    .venv/bin/python bench/bench_validate.py [--files 1000] [--runs 7]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl

SCHEMAS = bl.ROOT / "schemas"


def _strip(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema to embed under $defs: without its own $schema/$id (one resource)."""
    out = copy.deepcopy(schema)
    out.pop("$schema", None)
    out.pop("$id", None)
    return out


def combined_schema(mode: str) -> dict[str, Any]:
    """One schema for every kind, flavors embedded; mode 'oneof' or 'ifthen'."""
    defs: dict[str, Any] = {}
    flavor_rules = []
    for path in sorted((SCHEMAS / "flavors").glob("*/*.json")):
        ctype, flavor = path.parent.name, path.stem
        key = f"flavor_{ctype}_{flavor}"
        defs[key] = _strip(json.loads(path.read_text()))
        flavor_rules.append({
            "if": {"properties": {"spec": {"properties": {"type": {"const": ctype},
                                                          "flavor": {"const": flavor}},
                                           "required": ["type", "flavor"]}},
                   "required": ["spec"]},
            "then": {"properties": {"spec": {"properties": {
                "config": {"$ref": f"#/$defs/{key}"}}}}},
        })
    kinds = []
    for path in sorted((SCHEMAS / "manifests").glob("*.json")):
        schema = _strip(json.loads(path.read_text()))
        kind = schema.get("properties", {}).get("kind", {}).get("const")
        if kind is None:  # project.json: the stackctl.yaml project file, not a manifest
            continue
        if kind == "Component":
            schema["allOf"] = [*schema.get("allOf", []), *flavor_rules]
        defs[f"kind_{kind}"] = schema
        kinds.append(kind)
    top: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "$id": f"https://stackctl.bench/combined-{mode}.json",
                           "$defs": defs}
    if mode == "oneof":
        top["oneOf"] = [{"$ref": f"#/$defs/kind_{k}"} for k in kinds]
    else:
        top["type"] = "object"
        top["required"] = ["kind"]
        top["properties"] = {"kind": {"enum": kinds}}
        top["allOf"] = [{"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]},
                         "then": {"$ref": f"#/$defs/kind_{k}"}} for k in kinds]
    return top


# A bare Typer command parsing the same files with libyaml (issue 9's floor).
BARE_TYPER = """\
import os
import typer
import yaml

app = typer.Typer(add_completion=False)


@app.command()
def parse(paths: list[str]) -> None:
    n = 0
    for root in paths:
        for d, _, names in os.walk(root):
            for name in names:
                if name.endswith(('.yaml', '.yml')) and not name.startswith('.'):
                    with open(os.path.join(d, name), 'rb') as f:
                        n += sum(1 for _ in yaml.load_all(f, Loader=yaml.CSafeLoader))
    typer.echo(n)


app()
"""


def sanity_check(tmp: Path, schemas: dict[str, Path]) -> list[str]:
    """Each tool must reject a bad flavor config: proof the flavor schemas are in play."""
    bad = tmp / "bad"
    bad.mkdir()
    (bad / "bad.yaml").write_text(bl.component_doc(
        "bad", "team-0", "artifact_store", "s3", {"path": "s3://b/z", "bogus_key": 1}, {}))
    problems = []
    env = bl.env_with(STACKCTL_CONFIG_PATH=str(tmp / "config"))
    run = bl.run_once([bl.STACKCTL, "validate", str(bad)], env=env, capture=True)
    if run.returncode != 1:
        problems.append(f"stackctl validate accepted a bad flavor config (exit {run.returncode})")
    for mode, schema in schemas.items():
        run = bl.run_once(_cjs(schema, [bad / "bad.yaml"]), capture=True)
        if run.returncode != 1:
            problems.append(f"check-jsonschema ({mode}) accepted a bad flavor config "
                            f"(exit {run.returncode}): {run.stdout[-300:]!r}")
    return problems


def _cjs(schema: Path, files: list[Path]) -> list[str]:
    exe = Path(bl.PYTHON).with_name("check-jsonschema")
    cmd = [str(exe)] if exe.exists() else [shutil.which("check-jsonschema") or "check-jsonschema"]
    return [*cmd, "--schemafile", str(schema), *map(str, files)]


def run(files: int = 1000, runs: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-validate-") as tmpdir:
        tmp = Path(tmpdir)
        corpus = tmp / "manifests"
        counts = bl.validate_corpus(corpus, files)
        paths = sorted(corpus.rglob("*.yaml"))
        lines = [len(p.read_text().splitlines()) for p in paths]
        schemas = {}
        for mode in ("oneof", "ifthen"):
            schemas[mode] = tmp / f"combined-{mode}.json"
            schemas[mode].write_text(json.dumps(combined_schema(mode), indent=1))
        problems = sanity_check(tmp, schemas)
        env = bl.env_with(STACKCTL_CONFIG_PATH=str(tmp / "config"))
        typer_script = tmp / "bare_typer.py"
        typer_script.write_text(BARE_TYPER)
        commands = {
            "bare parse (CSafeLoader)": bl.bare_parse_cmd(corpus),
            "bare Typer command (CSafeLoader)": [bl.PYTHON, str(typer_script), str(corpus)],
            "stackctl validate": [bl.STACKCTL, "validate", str(corpus)],
            "check-jsonschema (oneOf)": _cjs(schemas["oneof"], paths),
            "check-jsonschema (if/then)": _cjs(schemas["ifthen"], paths),
        }
        series = bl.compare(commands, runs=runs, warmup=1, env=env)
    s = {k: v.median for k, v in series.items()}
    b = {k: v.best for k, v in series.items()}
    stackctl = s["stackctl validate"]
    r_cjs = bl.ratio(stackctl, s["check-jsonschema (oneOf)"])
    r_cjs_if = bl.ratio(stackctl, s["check-jsonschema (if/then)"])
    r_parse = bl.ratio(stackctl, s["bare parse (CSafeLoader)"])
    r_typer = bl.ratio(stackctl, s["bare Typer command (CSafeLoader)"])
    return {
        "files": files, "lines": (min(lines), max(lines)), "counts": counts, "runs": runs,
        "series": series, "problems": problems,
        "ratios": {
            "stackctl / check-jsonschema (oneOf)": (r_cjs, 0.25, r_cjs <= 0.25),
            "stackctl / check-jsonschema (if/then)": (r_cjs_if, 0.25, r_cjs_if <= 0.25),
            "stackctl / bare parse": (r_parse, 3.0, r_parse <= 3.0),
            "stackctl / bare Typer command": (r_typer, 1.6, r_typer <= 1.6),
            "  (stackctl / check-jsonschema (oneOf), best-of runs)": (
                bl.ratio(b["stackctl validate"], b["check-jsonschema (oneOf)"]), "", None),
            "  (stackctl / bare parse, best-of runs)": (
                bl.ratio(b["stackctl validate"], b["bare parse (CSafeLoader)"]), "", None),
            "  (stackctl / bare Typer command, best-of runs)": (
                bl.ratio(b["stackctl validate"], b["bare Typer command (CSafeLoader)"]), "",
                None),
        },
    }


def markdown(res: dict[str, Any]) -> str:
    lo, hi = res["lines"]
    mix = ", ".join(f"{k} {v}" for k, v in sorted(res["counts"].items()))
    out = [f"### validate: {res['files']} manifest files ({lo}-{hi} lines each)", "",
           f"Mix: {mix}.", "",
           bl.md_table(["command", "median", "min", "max", "sd", "peak RSS"],
                       [(s.label, bl.ms(s.median), bl.ms(s.best), bl.ms(s.worst),
                         bl.ms(s.stdev), f"{s.peak_mib:.0f} MiB")
                        for s in res["series"].values()]),
           "", f"Median of {res['runs']} interleaved runs each (1 warm-up).", "",
           bl.md_table(["ratio", "value", "target", "verdict"],
                       [(k, f"{v:.2f}", f"<= {t}" if t else "", bl.verdict(ok) if t else "")
                        for k, (v, t, ok) in res["ratios"].items()])]
    out += ["", "The issue's target compares against `oneOf` over the kinds (how it measured "
            "check-jsonschema); the `if/then` row is the stricter comparison against a schema "
            "that picks the kind first."]
    if res["problems"]:
        out += ["", "**Sanity check failed:**", *(f"- {p}" for p in res["problems"])]
    else:
        out += ["", "Sanity check: stackctl and both combined schemas reject an s3 artifact "
                "store with an unknown config key (flavor schemas really applied)."]
    failed = [s for s in res["series"].values() if s.failures]
    for s in failed:
        out += ["", f"**{s.label}: {s.failures} failed run(s)**: `{s.last_error.strip()[-300:]}`"]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    res = run(args.files, args.runs)
    print(markdown(res))
    sys.exit(1 if res["problems"] else 0)


if __name__ == "__main__":
    main()
