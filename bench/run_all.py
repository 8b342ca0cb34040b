"""Run every stackctl benchmark in one go and write bench/results/latest.md.

    .venv/bin/python bench/run_all.py [--n 1000,10000] [--quick] [--zenml PATH]

Runs, in this order: bench_startup (start-up, `stack list`), bench_validate
(1,000 and 10,000 manifest files), bench_plan_apply (N components), then the teammates'
bench_store_backends.py (``--n 10000``) and bench_load_floor.py as
subprocesses when present; their absence or failure is reported, not fatal.
The summary (markdown) goes to bench/results/latest.md (gitignored) and stdout.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import bench_plan_apply
import bench_startup
import bench_validate
import benchlib as bl

RESULTS = bl.BENCH_DIR / "results"


def _version(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "not installed"


def source_digest() -> str:
    """A digest of stackctl's sources: which code was measured, committed or not."""
    digest = hashlib.sha256()
    for path in sorted((bl.ROOT / "stackctl").rglob("*.py")):
        digest.update(path.relative_to(bl.ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def header() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=bl.ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:
            return "?"

    dirty = " (working tree modified)" if git("status", "--porcelain") else ""
    digest = source_digest()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        "# stackctl benchmarks", "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- commit: {git('rev-parse', '--short', 'HEAD') or '?'}{dirty}; stackctl/**/*.py "
        f"sha256 {digest} (identifies the code measured)",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load average at start "
        f"{load}; {platform.platform()}",
        f"- Python {platform.python_version()} ({bl.PYTHON}); stackctl {_version('stackctl')}, "
        f"PyYAML {_version('PyYAML')}, click {_version('click')}, jsonschema "
        f"{_version('jsonschema')}, check-jsonschema {_version('check-jsonschema')}",
        f"- peak RSS: {bl.RSS_TOOL}; children run with PYTHONDONTWRITEBYTECODE unset and "
        "PYTHONPYCACHEPREFIX on a scratch dir, so the editable stackctl runs from bytecode "
        "as an installed wheel does (warm-up runs fill the cache for every command alike)",
        "",
        "Every ratio is against a baseline measured in this run on this machine; the "
        "commands run as real subprocesses, interleaved, and the spread is shown. On a busy "
        "machine medians move between runs: read the ratios, not the absolute times.", ""])


def external(script: str, args: list[str], timeout: float) -> str:
    path = bl.BENCH_DIR / script
    title = f"### {script} {' '.join(args)}".rstrip()
    if not path.exists():
        return f"{title}\n\nNot present: skipped.\n"
    start = time.perf_counter()
    try:
        proc = subprocess.run([bl.PYTHON, str(path), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=bl.ROOT, check=False,
                              env=bl.env_with())
    except subprocess.TimeoutExpired:
        return f"{title}\n\nTimed out after {timeout:.0f} s: skipped.\n"
    took = time.perf_counter() - start
    body = proc.stdout.strip() or "(no output)"
    status = "" if proc.returncode == 0 else (
        f"\n\n**Exited {proc.returncode}**; stderr tail:\n\n```\n{proc.stderr[-1500:]}\n```")
    return f"{title}\n\n(teammate's script; {took:.0f} s)\n\n```\n{body}\n```{status}\n"


def section(name: str, work: Callable[[], Any], render: Callable[[Any], str],
            glance: Callable[[Any], list[tuple[str, str, str, str]]],
            rows: list[tuple[str, str, str, str]]) -> str:
    print(f"running {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        res = work()
    except (Exception, SystemExit):  # one failing benchmark must not lose the others
        rows.append((name, "FAILED", "", bl.verdict(False)))
        return f"### {name}\n\n**Failed:**\n\n```\n{traceback.format_exc()[-3000:]}\n```\n"
    rows.extend(glance(res))
    took = time.perf_counter() - start
    return render(res) + f"\n({name}: {took:.0f} s)\n"


def _ratio_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    where = f"validate {res['files']:,} files: " if "files" in res else ""
    return [(where + k.strip(), f"{v:.2f}", str(t) if str(t).startswith(("<", ">")) else f"<= {t}",
             bl.verdict(ok)) for k, (v, t, ok) in res["ratios"].items() if ok is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1000,10000",
                        help="component counts for plan/apply (e.g. 1000,10000,100000)")
    parser.add_argument("--startup-runs", type=int, default=20)
    parser.add_argument("--validate-runs", type=int, default=7)
    parser.add_argument("--plan-runs", type=int, default=5)
    parser.add_argument("--zenml", help="a ZenML 0.10 `zenml` executable to measure")
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs (5/3/3) for a smoke test; figures are noisier")
    parser.add_argument("--no-external", action="store_true",
                        help="skip the teammates' bench_store_backends.py/bench_load_floor.py")
    args = parser.parse_args()
    if args.quick:
        args.startup_runs, args.validate_runs, args.plan_runs = 5, 3, 3
    sizes = [int(x.replace("_", "")) for x in args.n.split(",") if x.strip()]

    glance: list[tuple[str, str, str, str]] = []
    digest = source_digest()
    parts = [header()]
    parts.append(section("startup", lambda: bench_startup.run(args.startup_runs, args.zenml),
                         bench_startup.markdown, _ratio_rows, glance))
    parts.append(section("validate", lambda: bench_validate.run(1000, args.validate_runs),
                         bench_validate.markdown, _ratio_rows, glance))
    parts.append(section("validate (10,000 files)",
                         lambda: bench_validate.run(10_000, args.validate_runs),
                         bench_validate.markdown, _ratio_rows, glance))
    parts.append(section("plan/apply", lambda: bench_plan_apply.run(sizes, args.plan_runs),
                         bench_plan_apply.markdown, bench_plan_apply.figures, glance))
    if not args.no_external:
        print("running bench_store_backends.py, bench_load_floor.py ...", file=sys.stderr,
              flush=True)
        parts.append(external("bench_store_backends.py", ["--n", "10000"], timeout=1800))
        parts.append(external("bench_load_floor.py", [], timeout=600))
    if source_digest() != digest:
        parts[0] += ("\n**Warning: stackctl's sources changed during this run** (sha256 "
                     f"{digest} → {source_digest()}): figures may mix two versions.\n")
    at_a_glance = "\n".join(["## Targets at a glance", "",
                             bl.md_table(["figure", "value", "target", "verdict"], glance), ""])
    text = "\n".join([parts[0], at_a_glance, "## Details", "", *parts[1:]])
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.md"
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"(written to {out.relative_to(bl.ROOT)})", file=sys.stderr)


if __name__ == "__main__":
    main()
