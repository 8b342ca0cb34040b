"""`stackctl apply` and no-op `stackctl plan` of N components, against their floors.

For each N (default 1,000 and 10,000; add 100,000 with ``--n 1000,10000,100000``),
in a fresh global config dir (STACKCTL_CONFIG_PATH) and a fresh manifest dir
holding N components in one profile plus one stack per 10 components (one file
per stack group, components cycling through local orchestrators, local/s3
artifact stores and sqlite/mysql metadata stores):

  bare parse    a process walking the manifest dir and parsing it with libyaml's
                CSafeLoader (process start included), median of --runs
  floor         the same parse as a one-command Typer CLI (bench_validate.BARE_TYPER):
                what any Typer command reading these manifests pays (issue 12)
  apply         `stackctl apply DIR --auto-approve` of N new components into a
                fresh local store: a first apply fills the config dir the later
                scenarios use; then --runs more (one above N=10,000), each into an
                emptied config dir, interleaved with
  atomic writes the bytes that first apply wrote into the profile's store (every
                file of ZenML 0.10's layout: component files, stacks.yaml,
                pipeline_runs.yaml; not stackctl's bookkeeping) written by a Python
                process of its own into an emptied directory: per file a temp file
                beside it and a rename over it, then one syncfs at the end
                (process start and reading the bytes from one JSON file included)
                target: apply <= 2 x atomic writes (issue 12)
  no-op plan    `stackctl plan DIR --detailed-exitcode` right after (exit 0 = no
                changes, checked), median of --runs and peak RSS, twice: with
                stackctl's read cache of parsed store files (read-cache/ in
                STACKCTL_CACHE_DIR) emptied before each run ("cold": every store
                file read and parsed) and kept from the previous run ("warm": a
                machine that planned before); the compiled schema validators in
                the same directory are kept in both, as Python's bytecode is
                targets: <= 3 x the bare parse (issue 4); <= 1.5 x the floor and
                <= 100 MiB at 10,000; at 100,000 <= 11 x the 10,000 time and
                <= 350 MiB (issue 12)
  one change    one component's config edited in its manifest, then apply; every
                file under the config dir snapshotted as {path: (mtime_ns, size,
                inode)} before and after: which files were written
                target: only that component's file, stacks.yaml only if needed,
                and stackctl's bookkeeping (profiles/<name>/.stackctl/)

    .venv/bin/python bench/bench_plan_apply.py [--n 1000,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl
from bench_validate import BARE_TYPER

PROFILE = "bench"

# The first-apply baseline: the same bytes, written atomically file by file, one sync.
ATOMIC_WRITES = """\
import ctypes, json, os, sys, tempfile
blob, root = sys.argv[1], sys.argv[2]
with open(blob, 'rb') as f:
    files = json.load(f)
made = set()
for rel, text in files.items():
    target = os.path.join(root, rel)
    directory = os.path.dirname(target)
    if directory not in made:
        os.makedirs(directory, exist_ok=True)
        made.add(directory)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
    with os.fdopen(fd, 'wb') as f:
        f.write(text.encode())
    os.replace(tmp, target)
fd = os.open(root, os.O_RDONLY)
try:
    if ctypes.CDLL(None, use_errno=True).syncfs(fd) != 0:
        os.sync()
finally:
    os.close(fd)
print(len(files))
"""


def store_files_blob(config: Path, out: Path) -> int:
    """Every file of the profile's store (ZenML's layout, not .stackctl/) into one JSON."""
    store = config / "profiles" / PROFILE
    files: dict[str, str] = {}
    for directory, subdirs, names in os.walk(store):
        subdirs[:] = [d for d in subdirs if d != ".stackctl"]
        for name in names:
            path = Path(directory) / name
            files[str(path.relative_to(store))] = path.read_text(encoding="utf-8")
    out.write_text(json.dumps(files), encoding="utf-8")
    return len(files)


def edit_one_component(manifests: Path, n: int) -> str:
    """Change the config of one artifact store in the middle; return its name."""
    target_index = (n // 2) - ((n // 2) % 3) + 1  # an artifact store (index % 3 == 1)
    name = f"artifacts-{target_index}"
    path = manifests / f"stack-{target_index // 10:06d}.yaml"
    docs = path.read_text(encoding="utf-8").split("---\n")
    [k] = [k for k, doc in enumerate(docs) if f"  name: {name}\n" in doc]
    before = docs[k]
    docs[k] = (before.replace("/zenml/", "/zenml-changed/", 1) if "path: s3://" in before
               else before.replace("/artifacts/", "/artifacts-changed/", 1))
    assert docs[k] != before
    path.write_text("---\n".join(docs), encoding="utf-8")
    return name


def classify(path: str, changed_component: str) -> str:
    parts = Path(path).parts
    if ".stackctl" in parts:
        return "bookkeeping"
    if parts[-1] == f"{changed_component}.yaml":
        return "the changed component"
    if parts[-1] == "stacks.yaml":
        return "stacks.yaml"
    return "UNEXPECTED"


PARSE = "bare parse (CSafeLoader)"
FLOOR = "floor: bare Typer command (CSafeLoader)"
COLD = "no-op plan, cold read cache"
WARM = "no-op plan, warm read cache"
APPLY = "apply of N new"
WRITES = "atomic writes of its files, one sync"


def one_size(n: int, runs: int, tmp: Path) -> dict[str, Any]:
    config = tmp / f"config-{n}"
    manifests = tmp / f"manifests-{n}"
    warm_cache, cold_cache = tmp / f"cache-warm-{n}", tmp / f"cache-cold-{n}"
    corpus = bl.plan_corpus(manifests, n, PROFILE, str(tmp / "data"))
    env = bl.env_with(STACKCTL_CONFIG_PATH=str(config), STACKCTL_CACHE_DIR=str(warm_cache))
    cold_env = {**env, "STACKCTL_CACHE_DIR": str(cold_cache)}
    res: dict[str, Any] = {"n": n, "corpus": corpus}

    # Apply N new components; the config dir it fills is the later scenarios' state.
    apply = [bl.STACKCTL, "apply", str(manifests), "--auto-approve"]
    apply_run = bl.run_once(apply, env=env, cwd=tmp, capture=True)
    if apply_run.returncode != 0:
        res["error"] = f"apply failed: {apply_run.stderr.decode()[-1500:]}"
        return res
    res["apply"] = apply_run

    # First apply against writing the same files atomically with one sync, interleaved;
    # each run into an emptied directory (and, for apply, an emptied read cache).
    large = n > 10_000
    blob = tmp / f"store-files-{n}.json"
    res["store_files"] = store_files_blob(config, blob)
    again_config, written = tmp / f"config-again-{n}", tmp / f"written-{n}"
    again_cache = tmp / f"cache-again-{n}"

    def fresh(*dirs: Path) -> None:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)

    res["apply_series"] = bl.compare(
        {APPLY: apply, WRITES: [bl.PYTHON, "-c", ATOMIC_WRITES, str(blob), str(written)]},
        runs=1 if large else runs, warmup=0, cwd=tmp,
        envs={APPLY: {**env, "STACKCTL_CONFIG_PATH": str(again_config),
                      "STACKCTL_CACHE_DIR": str(again_cache)}, WRITES: env},
        before={APPLY: lambda: fresh(again_config, again_cache), WRITES: lambda: fresh(written)})
    fresh(again_config, again_cache, written)

    # No-op plan against the bare parse of the same manifests, interleaved; the
    # plan twice: with stackctl's read cache of store files emptied before each
    # run (all the work), and with it filled by the previous run (the usual case
    # on a machine that planned before). --detailed-exitcode: exit 0 = no changes.
    # Above 10,000 components one run each and one untimed run to fill the cache.
    plan = [bl.STACKCTL, "plan", str(manifests), "--detailed-exitcode"]
    if large:
        bl.run_once(plan, env=env, cwd=tmp)
    typer_script = tmp / "bare_typer.py"
    typer_script.write_text(BARE_TYPER, encoding="utf-8")
    res["series"] = bl.compare(
        {PARSE: bl.bare_parse_cmd(manifests),
         FLOOR: [bl.PYTHON, str(typer_script), str(manifests)], COLD: plan, WARM: plan},
        runs=1 if large else runs, warmup=0 if large else 1, env=env, cwd=tmp,
        envs={COLD: cold_env},
        before={COLD: lambda: shutil.rmtree(cold_cache / "read-cache", ignore_errors=True)})

    # One changed component: which files does the apply write?
    name = edit_one_component(manifests, n)
    before = bl.snapshot(config)
    cache_before = bl.snapshot(warm_cache) if warm_cache.exists() else {}
    change_run = bl.run_once([bl.STACKCTL, "apply", str(manifests), "--auto-approve"],
                             env=env, cwd=tmp, capture=True)
    res["files"] = bl.changed_files(before, bl.snapshot(config))
    res["cache_files"] = bl.changed_files(
        cache_before, bl.snapshot(warm_cache) if warm_cache.exists() else {})
    res["change"] = change_run
    res["changed_component"] = name
    summary = [line for line in change_run.stderr.decode().splitlines()
               if line.startswith("Apply complete")]
    res["change_summary"] = summary[-1] if summary else change_run.stderr.decode()[-500:]
    again = bl.run_once(plan, env=env, cwd=tmp)
    res["noop_after_change"] = again.returncode == 0
    return res


def warm_up(tmp: Path) -> None:
    """A small apply, change and plan first: the timed runs find their bytecode cached."""
    bl.plan_corpus(tmp / "manifests", 30, PROFILE, str(tmp / "data"))
    env = bl.env_with(STACKCTL_CONFIG_PATH=str(tmp / "config"))
    apply = [bl.STACKCTL, "apply", str(tmp / "manifests"), "--auto-approve"]
    bl.run_once(apply, env=env, cwd=tmp)
    edit_one_component(tmp / "manifests", 30)
    bl.run_once(apply, env=env, cwd=tmp)
    bl.run_once([bl.STACKCTL, "plan", str(tmp / "manifests")], env=env, cwd=tmp)


def run(sizes: list[int], runs: int = 5) -> dict[str, Any]:
    results = []
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-plan-") as tmpdir:
        tmp = Path(tmpdir)
        warm_up(tmp / "warm-up")
        for n in sizes:
            print(f"  plan/apply: N={n} ...", file=sys.stderr, flush=True)
            results.append(one_size(n, runs, tmp))
    return {"sizes": sizes, "runs": runs, "results": results}


def _ratio_row(figure: str, measured: bl.Series, baseline: bl.Series, limit: float | None,
               where: str = "") -> tuple[str, str, str, str]:
    """A (figure, value, target, verdict) row of measured / baseline, medians and best-of;
    no target when ``limit`` is None."""
    ratio = bl.ratio(measured.median, baseline.median)
    best = bl.ratio(measured.best, baseline.best)
    return (figure, f"{ratio:.2f} (best-of: {best:.2f})",
            f"<= {limit:g}{where}" if limit is not None else "",
            bl.verdict(ratio <= limit) if limit is not None else "")


def figures(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) rows: the targets of issues 4 and 12."""
    rows: list[tuple[str, str, str, str]] = []
    ok_results = [r for r in res["results"] if "error" not in r]
    for r in res["results"]:
        n = r["n"]
        if "error" in r:
            rows.append((f"plan/apply at N={n:,}", "FAILED", "", bl.verdict(False)))
            continue
        parse, floor = r["series"][PARSE], r["series"][FLOOR]
        for label in (COLD, WARM):
            plan = r["series"][label]
            if not plan.times:
                rows.append((f"{label} at N={n:,}", f"FAILED: {plan.last_error[:300]}",
                             "exit 0 (no changes)", bl.verdict(False)))
                continue
            rows.append(_ratio_row(f"{label} / bare parse at N={n:,}", plan, parse, 3))
            rows.append(_ratio_row(f"{label} / floor (bare Typer command) at N={n:,}", plan,
                                   floor, 1.5 if n == 10_000 else None, " (at 10,000)"))
            if n == 10_000:
                rows.append((f"{label}: peak RSS at N=10,000", f"{plan.peak_mib:.0f} MiB",
                             "<= 100 MiB", bl.verdict(plan.peak_mib <= 100)))
            if n == 100_000:
                rows.append((f"{label}: peak RSS at N=100,000", f"{plan.peak_mib:.0f} MiB",
                             "<= 350 MiB", bl.verdict(plan.peak_mib <= 350)))
        apply, writes = r["apply_series"][APPLY], r["apply_series"][WRITES]
        if apply.times and writes.times:
            rows.append(_ratio_row(f"first apply / atomic writes + one sync at N={n:,}",
                                   apply, writes, 2 if n == 10_000 else None, " (at 10,000)"))
        else:
            rows.append((f"first apply / atomic writes at N={n:,}",
                         f"FAILED: {(apply.last_error or writes.last_error)[:300]}", "",
                         bl.verdict(False)))
        kinds = file_kinds(r)
        unexpected = [p for p, k in kinds.items() if k == "UNEXPECTED"]
        rows.append((f"files written by a one-component apply at N={n:,}",
                     f"{len(kinds)} ({len(unexpected)} unexpected)",
                     "the component + bookkeeping (+ stacks.yaml)",
                     bl.verdict(not unexpected and "the changed component" in kinds.values())))
    by_n = {r["n"]: r for r in ok_results}
    if 10_000 in by_n and 100_000 in by_n:
        for label in (COLD, WARM):
            small, big = by_n[10_000]["series"][label], by_n[100_000]["series"][label]
            if small.times and big.times:
                growth = big.median / small.median
                rows.append((f"{label}: time at N=100,000 / at N=10,000", f"{growth:.2f}",
                             "<= 11 (linear)", bl.verdict(growth <= 11)))
    if len(ok_results) >= 2:
        first, last = ok_results[0], ok_results[-1]
        for label in (COLD, WARM):
            if first["series"][label].times and last["series"][label].times:
                growth = ((last["series"][label].median / last["n"])
                          / (first["series"][label].median / first["n"]))
                rows.append((f"{label}: time/N at N={last['n']:,} over N={first['n']:,}",
                             f"{growth:.2f}", "~1 (linear; < 1.5)", bl.verdict(growth < 1.5)))
        growth = ((last["apply_series"][APPLY].median / last["n"])
                  / (first["apply_series"][APPLY].median / first["n"]))
        rows.append((f"apply of N new: time/N at N={last['n']:,} over N={first['n']:,}",
                     f"{growth:.2f}", "~1 (linear; < 1.5)", bl.verdict(growth < 1.5)))
        for label in (COLD, WARM):
            mem = [r["series"][label].peak_mib for r in ok_results]
            rows.append((f"{label}: peak RSS by N",
                         " → ".join(f"{m:.0f}" for m in mem) + " MiB", "", ""))
    return rows


def file_kinds(r: dict[str, Any]) -> dict[str, str]:
    return {p: classify(p, r["changed_component"])
            for group in r["files"].values() for p in group}


def markdown(res: dict[str, Any]) -> str:
    rows, apply_rows, files_out = [], [], []

    def cell(s: bl.Series) -> str:
        if not s.times:
            return "FAILED"
        return (f"{bl.ms(s.median)} (min {bl.ms(s.best)}, max {bl.ms(s.worst)}; "
                f"{s.peak_mib:.0f} MiB)")

    for r in res["results"]:
        if "error" in r:
            rows.append((f"{r['n']:,}", "FAILED", r["error"][-200:].replace("\n", " "),
                         "", "", "", "", ""))
            continue
        parse, floor, cold, warm = (r["series"][k] for k in (PARSE, FLOOR, COLD, WARM))
        rows.append((f"{r['n']:,}", f"{r['corpus']['files']:,} / {r['corpus']['stacks']:,}",
                     f"{bl.ms(parse.median)} (sd {bl.ms(parse.stdev)})", cell(floor),
                     cell(cold), cell(warm),
                     " / ".join(f"{bl.ratio(p.median, floor.median):.2f}" for p in (cold, warm)),
                     f"{bl.ms(r['change'].seconds)} ({r['change'].max_rss_kib / 1024:.0f} MiB)"))
        apply, writes = r["apply_series"][APPLY], r["apply_series"][WRITES]
        apply_rows.append((f"{r['n']:,}", f"{r['store_files']:,}", cell(apply), cell(writes),
                           f"{bl.ratio(apply.median, writes.median):.2f}",
                           f"{bl.ms(r['apply'].seconds)} ({r['apply'].max_rss_kib / 1024:.0f}"
                           " MiB)"))
        kinds = file_kinds(r)
        listing = [f"  - {what}: `{p}` ({kinds[p]})"
                   for what, group in r["files"].items() for p in group]
        listing += [f"  - {what}: `$STACKCTL_CACHE_DIR/{p}` (read cache, outside the config "
                    "dir: not state)" for what, group in r["cache_files"].items() for p in group]
        files_out += [f"- N={r['n']:,}: changed `{r['changed_component']}`; "
                      f"{r['change_summary']} Plan afterwards no-op: "
                      f"{'yes' if r['noop_after_change'] else 'NO'}.", *listing]
    out = ["### plan / apply (local store, one profile)", "",
           bl.md_table(["N components", "files / stacks", "bare parse",
                        "floor: bare Typer command (peak RSS)",
                        "no-op plan, cold read cache (peak RSS)",
                        "no-op plan, warm read cache (peak RSS)", "plan / floor (cold / warm)",
                        "apply 1 change (peak RSS)"], rows), "",
           f"Bare parse, floor and no-op plans: median of {res['runs']} interleaved runs "
           "(1 warm-up; a single run above N=10,000). Cold: stackctl's read cache of parsed "
           "store files emptied before each run; warm: left from the previous run.", "",
           bl.md_table(["N components", "store files written", "apply of N new (peak RSS)",
                        "atomic writes + one sync (peak RSS)", "apply / writes",
                        "first apply (peak RSS)"], apply_rows), "",
           f"Apply of N new and the atomic writes of the same files: median of {res['runs']} "
           "interleaved runs (one above N=10,000), each into an emptied directory; the "
           "last column is the first apply, which filled the state the plans read.", "",
           bl.md_table(["figure", "value", "target", "verdict"], figures(res)), "",
           "Files written by the one-change apply (snapshot of the config dir before/after; "
           "\"rewritten unchanged\" = new mtime/inode, same bytes):",
           "", *files_out]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1000,10000",
                        help="comma-separated component counts (e.g. 1000,10000,100000)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(x.replace("_", "")) for x in args.n.split(",") if x.strip()]
    res = run(sizes, args.runs)
    print(markdown(res))
    sys.exit(1 if any("error" in r for r in res["results"]) else 0)


if __name__ == "__main__":
    main()
