"""`stackctl apply` and no-op `stackctl plan` of N components, against the bare parse floor.

For each N (default 1,000 and 10,000; add 100,000 with ``--n 1000,10000,100000``),
in a fresh global config dir (STACKCTL_CONFIG_PATH) and a fresh manifest dir
holding N components in one profile plus one stack per 10 components (one file
per stack group, components cycling through local orchestrators, local/s3
artifact stores and sqlite/mysql metadata stores):

  bare parse    a process walking the manifest dir and parsing it with libyaml's
                CSafeLoader (process start included), median of --runs
  apply         `stackctl apply DIR --auto-approve` of N new components into the
                local store (one run: it changes the state)
  no-op plan    `stackctl plan DIR --detailed-exitcode` right after (exit 0 = no
                changes, checked), median of --runs and peak RSS, twice: with
                stackctl's read cache of parsed store files (STACKCTL_CACHE_DIR)
                emptied before each run ("cold": all the work) and kept from the
                previous run ("warm": a machine that planned before)
                targets: <= 3 x the bare parse; < 200 MiB at 10,000; linear in N
  one change    one component's config edited in its manifest, then apply; every
                file under the config dir snapshotted as {path: (mtime_ns, size,
                inode)} before and after: which files were written
                target: only that component's file, stacks.yaml only if needed,
                and stackctl's bookkeeping (profiles/<name>/.stackctl/)

    .venv/bin/python bench/bench_plan_apply.py [--n 1000,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl

PROFILE = "bench"


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
COLD = "no-op plan, cold read cache"
WARM = "no-op plan, warm read cache"


def one_size(n: int, runs: int, tmp: Path) -> dict[str, Any]:
    config = tmp / f"config-{n}"
    manifests = tmp / f"manifests-{n}"
    warm_cache, cold_cache = tmp / f"cache-warm-{n}", tmp / f"cache-cold-{n}"
    corpus = bl.plan_corpus(manifests, n, PROFILE, str(tmp / "data"))
    env = bl.env_with(STACKCTL_CONFIG_PATH=str(config), STACKCTL_CACHE_DIR=str(warm_cache))
    cold_env = {**env, "STACKCTL_CACHE_DIR": str(cold_cache)}
    res: dict[str, Any] = {"n": n, "corpus": corpus}

    # Apply N new components (once: it is stateful).
    apply_run = bl.run_once([bl.STACKCTL, "apply", str(manifests), "--auto-approve"],
                            env=env, cwd=tmp, capture=True)
    if apply_run.returncode != 0:
        res["error"] = f"apply failed: {apply_run.stderr.decode()[-1500:]}"
        return res
    res["apply"] = apply_run

    # No-op plan against the bare parse of the same manifests, interleaved; the
    # plan twice: with stackctl's read cache of store files emptied before each
    # run (all the work), and with it filled by the previous run (the usual case
    # on a machine that planned before). --detailed-exitcode: exit 0 = no changes.
    # Above 10,000 components one run each and one untimed run to fill the cache.
    large = n > 10_000
    plan = [bl.STACKCTL, "plan", str(manifests), "--detailed-exitcode"]
    if large:
        bl.run_once(plan, env=env, cwd=tmp)
    res["series"] = bl.compare(
        {PARSE: bl.bare_parse_cmd(manifests), COLD: plan, WARM: plan},
        runs=1 if large else runs, warmup=0 if large else 1, env=env, cwd=tmp,
        envs={COLD: cold_env},
        before={COLD: lambda: shutil.rmtree(cold_cache, ignore_errors=True)})

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


def figures(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) rows: the targets of issue 4 for plan and apply."""
    rows: list[tuple[str, str, str, str]] = []
    ok_results = [r for r in res["results"] if "error" not in r]
    for r in res["results"]:
        if "error" in r:
            rows.append((f"plan/apply at N={r['n']:,}", "FAILED", "", bl.verdict(False)))
            continue
        parse = r["series"][PARSE]
        for label in (COLD, WARM):
            plan = r["series"][label]
            if not plan.times:
                rows.append((f"{label} at N={r['n']:,}", f"FAILED: {plan.last_error[:300]}",
                             "exit 0 (no changes)", bl.verdict(False)))
                continue
            ratio = bl.ratio(plan.median, parse.median)
            best = bl.ratio(plan.best, parse.best)
            rows.append((f"{label} / bare parse at N={r['n']:,}",
                         f"{ratio:.2f} (best-of: {best:.2f})", "<= 3", bl.verdict(ratio <= 3)))
            if r["n"] == 10_000:
                rows.append((f"{label}: peak RSS at N=10,000", f"{plan.peak_mib:.0f} MiB",
                             "< 200 MiB", bl.verdict(plan.peak_mib < 200)))
        kinds = file_kinds(r)
        unexpected = [p for p, k in kinds.items() if k == "UNEXPECTED"]
        rows.append((f"files written by a one-component apply at N={r['n']:,}",
                     f"{len(kinds)} ({len(unexpected)} unexpected)",
                     "the component + bookkeeping (+ stacks.yaml)",
                     bl.verdict(not unexpected and "the changed component" in kinds.values())))
    if len(ok_results) >= 2:
        first, last = ok_results[0], ok_results[-1]
        for label in (COLD, WARM):
            if first["series"][label].times and last["series"][label].times:
                growth = ((last["series"][label].median / last["n"])
                          / (first["series"][label].median / first["n"]))
                rows.append((f"{label}: time/N at N={last['n']:,} over N={first['n']:,}",
                             f"{growth:.2f}", "~1 (linear; < 1.5)", bl.verdict(growth < 1.5)))
        growth = (last["apply"].seconds / last["n"]) / (first["apply"].seconds / first["n"])
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
    rows, files_out = [], []
    for r in res["results"]:
        if "error" in r:
            rows.append((f"{r['n']:,}", "FAILED", r["error"][-200:].replace("\n", " "),
                         "", "", "", "", ""))
            continue
        parse, cold, warm = (r["series"][k] for k in (PARSE, COLD, WARM))

        def cell(s: bl.Series) -> str:
            return (f"{bl.ms(s.median)} (min {bl.ms(s.best)}, max {bl.ms(s.worst)}; "
                    f"{s.peak_mib:.0f} MiB)")

        rows.append((f"{r['n']:,}", f"{r['corpus']['files']:,} / {r['corpus']['stacks']:,}",
                     f"{bl.ms(r['apply'].seconds)} ({r['apply'].max_rss_kib / 1024:.0f} MiB)",
                     f"{bl.ms(parse.median)} (sd {bl.ms(parse.stdev)})", cell(cold), cell(warm),
                     " / ".join(f"{bl.ratio(p.median, parse.median):.2f}" for p in (cold, warm)),
                     f"{bl.ms(r['change'].seconds)} ({r['change'].max_rss_kib / 1024:.0f} MiB)"))
        kinds = file_kinds(r)
        listing = [f"  - {what}: `{p}` ({kinds[p]})"
                   for what, group in r["files"].items() for p in group]
        listing += [f"  - {what}: `$STACKCTL_CACHE_DIR/{p}` (read cache, outside the config "
                    "dir: not state)" for what, group in r["cache_files"].items() for p in group]
        files_out += [f"- N={r['n']:,}: changed `{r['changed_component']}`; "
                      f"{r['change_summary']} Plan afterwards no-op: "
                      f"{'yes' if r['noop_after_change'] else 'NO'}.", *listing]
    out = ["### plan / apply (local store, one profile)", "",
           bl.md_table(["N components", "files / stacks", "apply N new (peak RSS)",
                        "bare parse", "no-op plan, cold read cache (peak RSS)",
                        "no-op plan, warm read cache (peak RSS)", "plan / parse (cold / warm)",
                        "apply 1 change (peak RSS)"], rows), "",
           f"Bare parse and no-op plans: median of {res['runs']} interleaved runs (1 warm-up; "
           "a single run above N=10,000); apply: one run each (stateful). Cold: stackctl's "
           "read cache of parsed store files emptied before each run; warm: left from the "
           "previous run.", "",
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
