"""`stackctl validate` of 1,000 (and 10,000) manifest files against baselines of the same run.

Writes 1,000 small manifest files (one document each, 10-20 lines: Profiles,
Stacks, and Components of flavors local/s3 artifact stores, sqlite/mysql
metadata stores, local orchestrators) to a temporary directory, then times,
as real subprocesses interleaved run by run:

  bare parse        a Python process that walks the directory and parses every
                    file with PyYAML's libyaml ``CSafeLoader`` (process start included)
  bare Typer        the same walk and parse as a one-command Typer CLI: the floor any
                    Typer command pays (Typer and Click imported, arguments parsed)
  stackctl          ``stackctl validate DIR``, and the same with STACKCTL_YAML_FAST=0
                    (the fast YAML path off: libyaml for every file, as before issue 12)
  check-jsonschema  ``check-jsonschema --schemafile combined.json FILES...`` with the
                    repository's own schemas (schemas/manifests/*.json, and every
                    built-in flavor schema embedded under ``$defs`` so that each
                    Component's ``spec.config`` is checked by its flavor's schema,
                    the same work stackctl does). Two combined schemas:
                    ``oneOf`` over the kinds (as the issue measured it) and
                    ``if``/``then`` picking the kind's schema by ``kind`` first.
                    Timed up to --cjs-max files (default 1,000: ~25 s a run at 10,000).
  ajv-cli           ``ajv validate --spec=draft2020 --strict=false -c ajv-formats
                    -s combined.json -d F1 -d F2 ...`` (every file named, which is about
                    10 % faster than ajv's own "**" glob; ajv-cli 5.0.0, ajv 8, ajv-formats
                    3; ajv-cli reads the YAML files itself, with js-yaml), with the same two
                    combined schemas. ajv-cli validates each file against one schema, so it
                    gets the combined one; it does less than stackctl (no cross-document
                    checks: references, duplicates, active stacks; no located errors). It is
                    installed once with npm into ~/.cache/stackctl-bench/ajv
                    ($STACKCTL_BENCH_CACHE/ajv); without npm it is skipped, and said so.

Targets: stackctl <= 0.10 x check-jsonschema (oneOf), <= 1.3 x the bare Typer command,
<= 1.0 x ajv-cli (the faster of its two schemas) at 1,000 and 10,000 files (issue 12).

    .venv/bin/python bench/bench_validate.py [--files 1000,10000] [--runs 7] [--cjs-max 1000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl

SCHEMAS = bl.ROOT / "schemas"
AJV_PACKAGES = ("ajv-cli@5.0.0", "ajv-formats@3.0.1")
AJV_DIR = Path(os.environ.get("STACKCTL_BENCH_CACHE", Path.home() / ".cache" / "stackctl-bench")
               ) / "ajv"


def ajv_exe() -> tuple[str | None, str]:
    """ajv-cli's executable (installed with npm on first use), or None and why not."""
    exe = AJV_DIR / "node_modules" / ".bin" / "ajv"
    stamp = AJV_DIR / "installed.txt"
    if exe.exists() and stamp.exists() and stamp.read_text() == " ".join(AJV_PACKAGES):
        return str(exe), ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm not found: ajv-cli not measured"
    AJV_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--prefix", str(AJV_DIR), "--no-audit", "--no-fund",
                           "--no-save", *AJV_PACKAGES], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not exe.exists():
        return None, f"npm install {' '.join(AJV_PACKAGES)} failed: {done.stderr[-300:]}"
    stamp.write_text(" ".join(AJV_PACKAGES))
    return str(exe), ""


def _ajv(exe: str, schema: Path, files: list[Path]) -> list[str]:
    # -c resolves "ajv-formats" from the working directory's node_modules (AJV_DIR).
    # Files one by one ("-d F" each): about 10 % faster than ajv's own "**" glob.
    data = [arg for f in files for arg in ("-d", str(f))]
    return [exe, "validate", "--spec=draft2020", "--strict=false", "-c", "ajv-formats",
            "-s", str(schema), *data]


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


def sanity_check(tmp: Path, schemas: dict[str, Path], ajv: str | None = None) -> list[str]:
    """Each tool must reject a bad flavor config and accept a good one: proof the
    flavor schemas are in play (and that the bad file is bad only there)."""
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
        if ajv is None:
            continue
        good = tmp / "good"
        good.mkdir(exist_ok=True)
        (good / "good.yaml").write_text(bl.component_doc(
            "good", "team-0", "artifact_store", "s3", {"path": "s3://b/z"}, {}))
        for folder, want in ((bad, 1), (good, 0)):
            run = bl.run_once(_ajv(ajv, schema, sorted(folder.glob("*.yaml"))), capture=True,
                              cwd=AJV_DIR)
            if run.returncode != want:
                problems.append(f"ajv-cli ({mode}) exited {run.returncode} on {folder.name}.yaml"
                                f" (expected {want}): {(run.stdout + run.stderr)[-300:]!r}")
    return problems


def _cjs(schema: Path, files: list[Path]) -> list[str]:
    exe = Path(bl.PYTHON).with_name("check-jsonschema")
    cmd = [str(exe)] if exe.exists() else [shutil.which("check-jsonschema") or "check-jsonschema"]
    return [*cmd, "--schemafile", str(schema), *map(str, files)]


def run(files: int = 1000, runs: int = 7, cjs_max: int = 1000) -> dict[str, Any]:
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
        ajv, ajv_note = ajv_exe()
        problems = sanity_check(tmp, schemas, ajv)
        env = bl.env_with(STACKCTL_CONFIG_PATH=str(tmp / "config"))
        typer_script = tmp / "bare_typer.py"
        typer_script.write_text(BARE_TYPER)
        commands = {
            "bare parse (CSafeLoader)": bl.bare_parse_cmd(corpus),
            "bare Typer command (CSafeLoader)": [bl.PYTHON, str(typer_script), str(corpus)],
            "stackctl validate": [bl.STACKCTL, "validate", str(corpus)],
            # the same, with the fast YAML path off: libyaml for every file
            "stackctl validate, STACKCTL_YAML_FAST=0": [bl.STACKCTL, "validate", str(corpus)],
        }
        envs = {"stackctl validate, STACKCTL_YAML_FAST=0": {**env, "STACKCTL_YAML_FAST": "0"}}
        cwds: dict[str, Path] = {}
        if files <= cjs_max:
            commands["check-jsonschema (oneOf)"] = _cjs(schemas["oneof"], paths)
            commands["check-jsonschema (if/then)"] = _cjs(schemas["ifthen"], paths)
        if ajv is not None:
            for mode, label in (("oneof", "oneOf"), ("ifthen", "if/then")):
                commands[f"ajv-cli ({label})"] = _ajv(ajv, schemas[mode], paths)
                cwds[f"ajv-cli ({label})"] = AJV_DIR
        series = bl.compare(commands, runs=runs, warmup=1, env=env, envs=envs, cwds=cwds)
    s = {k: v.median for k, v in series.items()}
    b = {k: v.best for k, v in series.items()}
    stackctl = s["stackctl validate"]
    r_parse = bl.ratio(stackctl, s["bare parse (CSafeLoader)"])
    r_typer = bl.ratio(stackctl, s["bare Typer command (CSafeLoader)"])
    ratios: dict[str, tuple[float, Any, bool | None]] = {}
    if "check-jsonschema (oneOf)" in s:
        r_cjs = bl.ratio(stackctl, s["check-jsonschema (oneOf)"])
        r_cjs_if = bl.ratio(stackctl, s["check-jsonschema (if/then)"])
        ratios["stackctl / check-jsonschema (oneOf)"] = (r_cjs, 0.1, r_cjs <= 0.1)
        ratios["stackctl / check-jsonschema (if/then)"] = (r_cjs_if, "", None)
    if ajv is not None:
        fastest = min(("ajv-cli (oneOf)", "ajv-cli (if/then)"), key=lambda k: s[k])
        r_ajv = bl.ratio(stackctl, s[fastest])
        ratios[f"stackctl / {fastest} (the faster ajv schema)"] = (r_ajv, 1.0, r_ajv <= 1.0)
    ratios["stackctl / bare Typer command"] = (r_typer, 1.3, r_typer <= 1.3)
    ratios["stackctl / bare parse"] = (r_parse, "", None)
    ratios["stackctl / stackctl with STACKCTL_YAML_FAST=0"] = (
        bl.ratio(stackctl, s["stackctl validate, STACKCTL_YAML_FAST=0"]), "", None)
    if ajv is not None:
        ratios[f"  (stackctl / {fastest}, best-of runs)"] = (
            bl.ratio(b["stackctl validate"], b[fastest]), "", None)
    ratios["  (stackctl / bare Typer command, best-of runs)"] = (
        bl.ratio(b["stackctl validate"], b["bare Typer command (CSafeLoader)"]), "", None)
    return {
        "files": files, "lines": (min(lines), max(lines)), "counts": counts, "runs": runs,
        "series": series, "problems": problems, "ajv_note": ajv_note, "cjs_max": cjs_max,
        "ratios": ratios,
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
    out += ["", "The check-jsonschema target compares against `oneOf` over the kinds (how the "
            "issue measured it); `if/then` picks the kind first. ajv-cli gets the same two "
            "combined schemas, one per run; the target is against the faster of the two."]
    if res["files"] > res["cjs_max"]:
        out += ["", f"check-jsonschema not timed above {res['cjs_max']:,} files (--cjs-max)."]
    if res["ajv_note"]:
        out += ["", f"**ajv-cli not measured**: {res['ajv_note']}"]
    if res["problems"]:
        out += ["", "**Sanity check failed:**", *(f"- {p}" for p in res["problems"])]
    else:
        out += ["", "Sanity check: stackctl, check-jsonschema and ajv-cli with both combined "
                "schemas reject an s3 artifact store with an unknown config key (flavor "
                "schemas really applied); ajv-cli accepts the same store without it."]
    failed = [s for s in res["series"].values() if s.failures]
    for s in failed:
        out += ["", f"**{s.label}: {s.failures} failed run(s)**: `{s.last_error.strip()[-300:]}`"]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1000,10000",
                        help="file counts, comma-separated (each its own corpus and runs)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cjs-max", type=int, default=1000,
                        help="time check-jsonschema only up to this many files")
    args = parser.parse_args()
    failed = False
    for files in [int(x.replace("_", "")) for x in args.files.split(",") if x.strip()]:
        res = run(files, args.runs, args.cjs_max)
        print(markdown(res), flush=True)
        failed = failed or bool(res["problems"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
