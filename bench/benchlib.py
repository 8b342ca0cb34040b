"""Shared helpers of the stackctl benchmarks: subprocess timing, peak memory, manifests.

Every figure the benchmarks report is a ratio against a baseline measured in
the same run, on the same machine, with the same interpreter. Commands run as
real subprocesses; each one's wall time comes from ``time.perf_counter``
around it, its peak resident set size from ``/usr/bin/time -f %M`` (the
"Maximum resident set size" of ``/usr/bin/time -v``).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# The interpreter running the benchmarks is the project's venv interpreter when
# started as `.venv/bin/python bench/...`; stackctl's console script sits next to it.
PYTHON = sys.executable

# Children run from bytecode, as an installed wheel would: this machine sets
# PYTHONDONTWRITEBYTECODE, which would make every run of the editable stackctl
# recompile its modules (about 30 ms of every start). The bytecode goes to a
# scratch directory (PYTHONPYCACHEPREFIX), never into the source tree; the
# warm-up runs fill it, for the baselines and stackctl alike.
PYCACHE = tempfile.mkdtemp(prefix="stackctl-bench-pycache-")
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)
# stackctl's read cache (parsed store files, validated by stat) lives outside the
# config dir, by default in ~/.cache/stackctl: keep it in a scratch dir of the run
# (scenarios that measure it pass their own STACKCTL_CACHE_DIR).
READ_CACHE = tempfile.mkdtemp(prefix="stackctl-bench-cache-")
atexit.register(shutil.rmtree, READ_CACHE, ignore_errors=True)


def stackctl_exe() -> str:
    candidate = Path(PYTHON).with_name("stackctl")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("stackctl")
    if not found:
        raise SystemExit("stackctl is not installed next to this interpreter nor on PATH; "
                         "run the benchmarks with the project's venv: .venv/bin/python bench/...")
    return found


STACKCTL = stackctl_exe()


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""


# Peak RSS comes from the rusage of the measured process as its parent sees it
# (wait4). That parent must be a small process: on Linux a child's ru_maxrss
# includes the high-water mark of the memory it was forked from, so a child of
# this (growing) benchmark process would report at least our own size.
# /usr/bin/time (as in `/usr/bin/time -v`: "Maximum resident set size") is
# that small parent; without it, a minimal Python launcher (~9 MiB) stands in.
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""
RSS_TOOL = "/usr/bin/time -f %M" if TIME else "a minimal Python fork/exec/wait4 launcher"


def run_once(cmd: Sequence[str], *, env: Mapping[str, str] | None = None,
             cwd: str | Path | None = None, capture: bool = False) -> Run:
    """Run cmd once; wall time, its peak RSS (KiB) and exit code."""
    fd, rss_file = tempfile.mkstemp(prefix="stackctl-bench-rss-", dir=PYCACHE)
    os.close(fd)
    if TIME:
        full = [TIME, "-f", "%M", "-o", rss_file, *cmd]
    else:
        full = [PYTHON, "-c", LAUNCHER, rss_file, *cmd]
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.run(full, stdout=out, stderr=out, stdin=subprocess.DEVNULL, check=False,
                          env=dict(env) if env is not None else env_with(), cwd=cwd)
    seconds = time.perf_counter() - start
    try:
        # GNU time writes "Command exited with non-zero status N" before the figure.
        lines = Path(rss_file).read_text().split()
        rss = int(lines[-1]) if lines else 0
    except (OSError, ValueError):
        rss = 0
    finally:
        os.unlink(rss_file)
    return Run(seconds, rss, proc.returncode, proc.stdout or b"", proc.stderr or b"")


@dataclass
class Series:
    """Repeated runs of one command: median, spread, peak memory."""

    label: str
    times: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    failures: int = 0
    last_error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def best(self) -> float:
        return min(self.times) if self.times else float("nan")

    @property
    def worst(self) -> float:
        return max(self.times) if self.times else float("nan")

    @property
    def stdev(self) -> float:
        return statistics.stdev(self.times) if len(self.times) > 1 else 0.0

    @property
    def peak_mib(self) -> float:
        return max(self.rss_kib) / 1024 if self.rss_kib else float("nan")

    def spread(self) -> str:
        if not self.times:
            return "no successful run"
        return (f"median {ms(self.median)}, min {ms(self.best)}, max {ms(self.worst)}, "
                f"sd {ms(self.stdev)}, n={len(self.times)}")

    def add(self, run: Run, ok_codes: Sequence[int] = (0,)) -> None:
        if run.returncode not in ok_codes:
            self.failures += 1
            err = (run.stderr or b"").decode(errors="replace")[-1500:]
            out = (run.stdout or b"").decode(errors="replace")[-800:]
            self.last_error = f"exit {run.returncode}; stderr tail: {err!r}; stdout tail: {out!r}"
            return
        self.times.append(run.seconds)
        self.rss_kib.append(run.max_rss_kib)


def compare(commands: Mapping[str, Sequence[str]], *, runs: int, warmup: int = 2,
            env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
            ok_codes: Mapping[str, Sequence[int]] | None = None,
            envs: Mapping[str, Mapping[str, str]] | None = None,
            before: Mapping[str, Callable[[], object]] | None = None,
            cwds: Mapping[str, str | Path] | None = None) -> dict[str, Series]:
    """A hyperfine-like loop: warm up, then run the commands interleaved (A B A B ...).

    Interleaving spreads machine noise (another process, CPU frequency) evenly
    over the commands compared, which is what a ratio needs. ``envs`` gives a
    command its own environment; ``before`` an untimed step before each of its
    runs (e.g. emptying a cache); ``cwds`` a command its own working directory.
    """
    series = {label: Series(label) for label in commands}
    codes = ok_codes or {}
    envs = envs or {}
    before = before or {}

    def one(label: str, capture: bool) -> Run:
        if label in before:
            before[label]()
        return run_once(commands[label], env=envs.get(label, env),
                        cwd=(cwds or {}).get(label, cwd), capture=capture)

    for _ in range(warmup):
        for label in commands:
            one(label, capture=False)
    for _ in range(runs):
        for label in commands:
            series[label].add(one(label, capture=True), codes.get(label, (0,)))
    for s in series.values():
        if s.failures:
            print(f"  ! {s.label}: {s.failures} failed run(s); last stderr:\n{s.last_error}",
                  file=sys.stderr)
    return series


def ms(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**MISSED**")


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["STACKCTL_CACHE_DIR"] = READ_CACHE
    env.update(extra)
    env.setdefault("NO_COLOR", "1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    # Keep the user's repository (.zen) discovery out of the measurement.
    env.pop("STACKCTL_REPOSITORY_PATH", None)
    env.pop("ZENML_REPOSITORY_PATH", None)
    return env


# -- the bare libyaml parse floor ---------------------------------------------------------

# A process of its own, like stackctl's, that finds the manifest files the way
# stackctl does (os.walk, *.yaml/*.yml, hidden directories skipped) and parses
# every document with libyaml's CSafeLoader. Nothing else.
BARE_PARSE = """\
import os, sys, yaml
assert yaml.__with_libyaml__
n = 0
for root in sys.argv[1:]:
    for d, subdirs, names in os.walk(root):
        subdirs[:] = [s for s in subdirs if not s.startswith('.') and s != '.zen']
        for name in names:
            if name.endswith(('.yaml', '.yml')) and not name.startswith('.'):
                with open(os.path.join(d, name), 'rb') as f:
                    n += sum(1 for _ in yaml.load_all(f, Loader=yaml.CSafeLoader))
print(n)
"""


def bare_parse_cmd(*dirs: str | Path) -> list[str]:
    return [PYTHON, "-c", BARE_PARSE, *map(str, dirs)]


# -- manifests ---------------------------------------------------------------------------

def component_doc(name: str, profile: str | None, ctype: str, flavor: str,
                  config: Mapping[str, object], labels: Mapping[str, str]) -> str:
    lines = ["apiVersion: stackctl/v1", "kind: Component", "metadata:", f"  name: {name}"]
    if profile:
        lines.append(f"  profile: {profile}")
    if labels:
        lines.append("  labels:")
        lines += [f"    {k}: {v}" for k, v in labels.items()]
    lines += ["spec:", f"  type: {ctype}", f"  flavor: {flavor}"]
    if config:
        lines.append("  config:")
        for key, value in config.items():
            if isinstance(value, dict):
                lines.append(f"    {key}:")
                lines += [f"      {k}: {v}" for k, v in value.items()]
            else:
                lines.append(f"    {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def _scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def stack_doc(name: str, profile: str | None, components: Mapping[str, str],
              labels: Mapping[str, str]) -> str:
    lines = ["apiVersion: stackctl/v1", "kind: Stack", "metadata:", f"  name: {name}"]
    if profile:
        lines.append(f"  profile: {profile}")
    if labels:
        lines.append("  labels:")
        lines += [f"    {k}: {v}" for k, v in labels.items()]
    lines += ["spec:", "  components:"]
    lines += [f"    {t}: {n}" for t, n in components.items()]
    return "\n".join(lines) + "\n"


def profile_doc(name: str, active_stack: str, labels: Mapping[str, str]) -> str:
    lines = ["apiVersion: stackctl/v1", "kind: Profile", "metadata:", f"  name: {name}"]
    if labels:
        lines.append("  labels:")
        lines += [f"    {k}: {v}" for k, v in labels.items()]
    lines += ["spec:", "  store:", "    type: local", f"  activeStack: {active_stack}"]
    return "\n".join(lines) + "\n"


TEAMS = ("ml", "data", "platform", "research")
ENVS = ("dev", "staging", "prod")


def labels_for(i: int) -> dict[str, str]:
    return {"team": TEAMS[i % len(TEAMS)], "env": ENVS[i % len(ENVS)],
            "owner": f"user{i % 37}"}


def orchestrator(i: int, profile: str | None, data_root: str) -> tuple[str, str]:
    name = f"orch-{i}"
    return name, component_doc(name, profile, "orchestrator", "local", {}, labels_for(i))


def artifact_store(i: int, profile: str | None, data_root: str) -> tuple[str, str]:
    name = f"artifacts-{i}"
    if i % 2:
        cfg: dict[str, object] = {
            "path": f"s3://ml-artifacts-{i % 50}/zenml/{i}",
            "client_kwargs": {"endpoint_url": f"http://minio-{i % 5}.internal:9000",
                              "region_name": "eu-west-1"},
        }
        return name, component_doc(name, profile, "artifact_store", "s3", cfg, labels_for(i))
    return name, component_doc(name, profile, "artifact_store", "local",
                               {"path": f"{data_root}/artifacts/{i}"}, labels_for(i))


def metadata_store(i: int, profile: str | None, data_root: str) -> tuple[str, str]:
    name = f"metadata-{i}"
    if i % 2:
        cfg: dict[str, object] = {"host": f"mysql-{i % 7}.internal", "port": 3306,
                                  "database": f"zenml_{i}", "username": "zenml",
                                  "upgrade_migration_enabled": False}
        return name, component_doc(name, profile, "metadata_store", "mysql", cfg, labels_for(i))
    return name, component_doc(name, profile, "metadata_store", "sqlite",
                               {"uri": f"{data_root}/metadata/{i}.db",
                                "upgrade_migration_enabled": True}, labels_for(i))


def validate_corpus(root: Path, files: int, data_root: str = "/var/lib/zenml") -> dict[str, int]:
    """One document per file, 10-20 lines each, a valid and consistent set.

    About 1% Profile files (each profile active on its first stack); the rest in
    groups of four files: a local orchestrator, an artifact store (local or s3),
    a metadata store (sqlite or mysql) and the Stack that uses the three.
    Returns the count of documents per kind/flavor.
    """
    root.mkdir(parents=True, exist_ok=True)
    n_profiles = max(1, files // 100)
    counts: dict[str, int] = {}
    written = 0

    def put(path: str, text: str, what: str) -> None:
        nonlocal written
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        counts[what] = counts.get(what, 0) + 1
        written += 1

    for p in range(n_profiles):
        put(f"team-{p}/profile.yaml", profile_doc(f"team-{p}", "stack-0", labels_for(p)),
            "Profile")
    i = 0
    while written < files:
        profile = f"team-{i % n_profiles}"
        folder = f"team-{i % n_profiles}"
        stack_no = i // n_profiles
        makers = (orchestrator, artifact_store, metadata_store)
        slots = ("orchestrator", "artifact_store", "metadata_store")
        names: dict[str, str] = {}
        for slot, make in zip(slots, makers, strict=True):
            if written >= files:  # the last group may stop short of its stack
                break
            name, text = make(i, profile, data_root)
            names[slot] = name
            flavor = text.split("flavor: ", 1)[1].split("\n", 1)[0]
            put(f"{folder}/{slot}/{name}.yaml", text, f"Component/{slot}/{flavor}")
        if len(names) == 3 and written < files:
            put(f"{folder}/stacks/stack-{stack_no}.yaml",
                stack_doc(f"stack-{stack_no}", profile, names, labels_for(i)), "Stack")
        i += 1
    # Every profile's activeStack names its stack-0, so each needs a complete first group.
    assert files >= n_profiles * 5, "too few files for the number of profiles"
    return counts


def plan_corpus(root: Path, n_components: int, profile: str, data_root: str,
                group: int = 10) -> dict[str, object]:
    """n_components components in one profile, plus one stack per group of them.

    One file per stack group (``group`` components and the stack that uses the
    group's orchestrator, artifact store and metadata store), like a repository
    that keeps a file per stack. Component types and flavors cycle through
    local/s3 artifact stores, sqlite/mysql metadata stores, local orchestrators.
    """
    root.mkdir(parents=True, exist_ok=True)
    makers = (orchestrator, artifact_store, metadata_store)
    slots = ("orchestrator", "artifact_store", "metadata_store")
    files = 0
    stacks = 0
    for start in range(0, n_components, group):
        docs: list[str] = []
        names: dict[str, str] = {}
        for i in range(start, min(start + group, n_components)):
            k = i % 3
            name, text = makers[k](i, profile, data_root)
            names.setdefault(slots[k], name)
            docs.append(text)
        if len(names) == 3:
            docs.append(stack_doc(f"stack-{start // group}", profile, names,
                                  labels_for(start)))
            stacks += 1
        (root / f"stack-{start // group:06d}.yaml").write_text("---\n".join(docs),
                                                              encoding="utf-8")
        files += 1
    (root / "profile.yaml").write_text(profile_doc(profile, "stack-0", {"team": "ml"}),
                                       encoding="utf-8")
    return {"files": files + 1, "components": n_components, "stacks": stacks}


Snapshot = dict[str, tuple[int, int, int, str]]


def snapshot(root: Path) -> Snapshot:
    """{relative path: (mtime_ns, size, inode, sha256 of the content)} of every file under root.

    mtime and inode tell a file written (atomic replaces change the inode); the
    digest tells whether its content changed or it was rewritten unchanged.
    """
    result: Snapshot = {}
    stack = [root]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    st = entry.stat(follow_symlinks=False)
                    with open(entry.path, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                    result[os.path.relpath(entry.path, root)] = (
                        st.st_mtime_ns, st.st_size, st.st_ino, digest)
    return result


def changed_files(before: Snapshot, after: Snapshot) -> dict[str, list[str]]:
    touched = [p for p in before.keys() & after.keys() if before[p] != after[p]]
    return {
        "modified": sorted(p for p in touched if before[p][3] != after[p][3]),
        "rewritten unchanged": sorted(p for p in touched if before[p][3] == after[p][3]),
        "created": sorted(after.keys() - before.keys()),
        "deleted": sorted(before.keys() - after.keys()),
    }


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
