"""Load held: concurrent `stackctl apply` processes (and readers) on one profile, per backend.

W writers each run A applies in a row against the same profile, all at once, while R
readers run `stackctl plan` and `stackctl stack list` in a loop until the writers are
done. Every command is a real `stackctl` process. Writer w's apply number k declares
two components: ``c-w<w>-<k>`` (new each time) and ``w<w>`` (the same one, its path set
to k). Afterwards the profile is exported and checked:

- lost updates: a successful apply whose new component is missing, a writer's ``w<w>``
  not holding the value of its last successful apply, or stackctl's record of what it
  manages missing for any of them (a `plan` of the expected end state must be a no-op
  that adopts nothing);
- internal errors: any command printing "internal error" or a traceback;
- refusals: every failed apply must be a clean lock-timeout message ("Could not lock …").

Reported per backend (local YAML, SQLite, PostgreSQL, MariaDB): applies per second, the
slowest apply's wall time (which includes its wait for the lock), and the counts above.
Times are context, not targets: nothing here is compared with a constant.

    .venv/bin/python bench/bench_load.py [--writers 8] [--applies 50] [--readers 2]
                                         [--backends local,sqlite,postgresql,mariadb]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROFILE = "load"
BACKENDS = ("local", "sqlite", "postgresql", "mariadb")
LOCK_REFUSAL = "Could not lock "


def stackctl_exe() -> str:
    candidate = Path(sys.executable).with_name("stackctl")
    return str(candidate) if candidate.exists() else "stackctl"


@dataclass
class Outcome:
    """What one backend's run did; ``problems`` empty means the load was held."""

    backend: str
    seconds: float = 0.0
    applies_ok: int = 0
    lock_refusals: int = 0
    slowest_apply: float = 0.0
    reads_ok: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def applies_per_second(self) -> float:
        return self.applies_ok / self.seconds if self.seconds else float("nan")


def _profile_doc(store: str) -> str:
    return (f"apiVersion: stackctl/v1\nkind: Profile\nmetadata: {{name: {PROFILE}}}\n"
            f"spec:\n  store: {store}\n  activeStack: default\n---\n"
            "apiVersion: stackctl/v1\nkind: GlobalConfig\nmetadata: {name: global}\n"
            f"spec: {{activeProfile: {PROFILE}}}\n")


def _component(name: str, path: str) -> str:
    return (f"apiVersion: stackctl/v1\nkind: Component\n"
            f"metadata: {{name: {name}, profile: {PROFILE}}}\n"
            f"spec:\n  type: artifact_store\n  flavor: local\n  config: {{path: '{path}'}}\n")


def _value(writer: int, k: int) -> str:
    return f"/srv/load/w{writer}/{k}"


def write_apply_dir(root: Path, store: str, writer: int, k: int) -> Path:
    target = root / f"w{writer}-{k:03d}"
    target.mkdir(parents=True)
    (target / "profile.yaml").write_text(_profile_doc(store))
    (target / "components.yaml").write_text(
        _component(f"c-w{writer}-{k:03d}", _value(writer, k)) + "---\n"
        + _component(f"w{writer}", _value(writer, k)))
    return target


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run([stackctl_exe(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False, timeout=600)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def _internal(output: str) -> bool:
    return "internal error" in output or "Traceback" in output


def run_backend(backend: str, store: str, env_extra: dict[str, str], *, writers: int,
                applies: int, readers: int) -> Outcome:
    """One backend: set up the profile, run the load, check the end state."""
    out = Outcome(backend)
    with tempfile.TemporaryDirectory(prefix=f"stackctl-load-{backend}-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "STACKCTL_CONFIG_PATH": str(root / "config"),
               "STACKCTL_CACHE_DIR": str(root / "cache"), "NO_COLOR": "1", **env_extra}
        env.pop("STACKCTL_DEBUG", None)
        setup = root / "setup"
        setup.mkdir()
        (setup / "profile.yaml").write_text(_profile_doc(store))
        rc, output, _ = _run(["apply", str(setup), "--auto-approve"], env, root)
        if rc != 0:
            out.problems.append(f"setup apply failed: {output.strip()[-500:]}")
            return out
        dirs = {(w, k): write_apply_dir(root / "applies", store, w, k)
                for w in range(writers) for k in range(applies)}
        succeeded: dict[int, list[int]] = {w: [] for w in range(writers)}
        lock = threading.Lock()
        writers_done = threading.Event()

        def writer(w: int) -> None:
            for k in range(applies):
                rc, output, seconds = _run(["apply", str(dirs[(w, k)]), "--auto-approve"],
                                           env, root)
                with lock:
                    out.slowest_apply = max(out.slowest_apply, seconds)
                    if rc == 0:
                        succeeded[w].append(k)
                        out.applies_ok += 1
                    elif _internal(output):
                        out.problems.append(f"internal error in apply w{w}/{k}: "
                                            f"{output.strip()[-500:]}")
                    elif output.startswith("Error: " + LOCK_REFUSAL):
                        out.lock_refusals += 1
                    else:
                        out.problems.append(f"apply w{w}/{k} refused other than by a lock "
                                            f"timeout: {output.strip()[-500:]}")

        def reader(r: int) -> None:
            commands = [["plan", str(setup)], ["stack", "list"]]
            i = r
            while not writers_done.is_set():
                args = commands[i % 2]
                i += 1
                rc, output, _ = _run(args, env, root)
                with lock:
                    if rc == 0:
                        out.reads_ok += 1
                    else:
                        what = "internal error" if _internal(output) else "failure"
                        out.problems.append(f"{what} in reader `{' '.join(args)}`: "
                                            f"{output.strip()[-500:]}")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        read_threads = [threading.Thread(target=reader, args=(r,)) for r in range(readers)]
        start = time.perf_counter()
        for t in [*threads, *read_threads]:
            t.start()
        for t in threads:
            t.join()
        out.seconds = time.perf_counter() - start
        writers_done.set()
        for t in read_threads:
            t.join()
        out.problems += check_end_state(root, env, store, succeeded)
    return out


def check_end_state(root: Path, env: dict[str, str], store: str,
                    succeeded: dict[int, list[int]]) -> list[str]:
    """Lost updates: compare the exported profile and stackctl's records with the applies."""
    problems: list[str] = []
    exported = root / "exported"
    rc, output, _ = _run(["export", "--profile", PROFILE, "-o", str(exported)], env, root)
    if rc != 0:
        return [f"export failed: {output.strip()[-500:]}"]
    paths: dict[str, Any] = {}
    for path in exported.rglob("*.yaml*"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Component":
                paths[doc["metadata"]["name"]] = doc["spec"].get("config", {}).get("path")
    expected = root / "expected"
    expected.mkdir()
    docs = []
    for w, ks in succeeded.items():
        for k in ks:
            name = f"c-w{w}-{k:03d}"
            docs.append(_component(name, _value(w, k)))
            if paths.get(name) != _value(w, k):
                problems.append(f"lost update: {name} (applied) is {paths.get(name)!r}")
        if ks:
            docs.append(_component(f"w{w}", _value(w, ks[-1])))
            if paths.get(f"w{w}") != _value(w, ks[-1]):
                problems.append(f"lost update: w{w} is {paths.get(f'w{w}')!r}, its last "
                                f"successful apply set {_value(w, ks[-1])!r}")
    (expected / "profile.yaml").write_text(_profile_doc(store))
    (expected / "components.yaml").write_text("---\n".join(docs))
    rc, output, _ = _run(["plan", "--detailed-exitcode", str(expected)], env, root)
    if rc != 0 or "now managed by stackctl" in output:
        problems.append(f"lost bookkeeping: the plan of the applied end state is not a "
                        f"no-op that adopts nothing (exit {rc}): {output.strip()[-800:]}")
    return problems


@contextmanager
def backend_store(backend: str, scratch: Path) -> Iterator[tuple[str, dict[str, str]] | None]:
    """(store spec, extra env) for a backend, with a scratch database; None if unreachable."""
    if backend == "local":
        yield "{type: local}", {}
    elif backend == "sqlite":
        yield f"{{type: sql, url: 'sqlite:///{scratch / 'load.db'}'}}", {}
    elif backend == "postgresql":
        import psycopg

        name = f"stackctl_load_{uuid.uuid4().hex[:8]}"
        try:
            admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres",
                                    autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            print(f"postgresql: unreachable ({exc})", file=sys.stderr)
            yield None
            return
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield ("{type: sql, urlFromEnv: LOAD_DB_URL}",
                   {"LOAD_DB_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"})
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.close()
    elif backend == "mariadb":
        import pymysql

        name = f"stackctl_load_{uuid.uuid4().hex[:8]}"
        try:
            admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True,
                                    connect_timeout=5)
        except pymysql.MySQLError as exc:
            print(f"mariadb: unreachable ({exc})", file=sys.stderr)
            yield None
            return
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        try:
            yield ("{type: sql, urlFromEnv: LOAD_DB_URL}",
                   {"LOAD_DB_URL": f"mysql+pymysql://root@127.0.0.1:3306/{name}"})
        finally:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE `{name}`")
            admin.close()
    else:
        raise ValueError(f"unknown backend {backend!r}")


def run(backends: tuple[str, ...] = BACKENDS, *, writers: int = 8, applies: int = 50,
        readers: int = 2) -> list[Outcome | str]:
    results: list[Outcome | str] = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="stackctl-load-db-") as scratch, \
                backend_store(backend, Path(scratch)) as found:
            if found is None:
                results.append(f"{backend}: server unreachable, not measured")
                continue
            store, extra = found
            results.append(run_backend(backend, store, extra, writers=writers,
                                       applies=applies, readers=readers))
    return results


def markdown(results: list[Outcome | str], writers: int, applies: int, readers: int) -> str:
    lines = ["### load held", "",
             f"{writers} writer processes x {applies} applies each on one profile, "
             f"{readers} readers running `plan` and `stack list` meanwhile.", "",
             "| backend | applies ok | lock refusals | applies/s | slowest apply (incl. lock "
             "wait) | reads ok | problems |", "|---|---|---|---|---|---|---|"]
    notes = []
    for res in results:
        if isinstance(res, str):
            notes.append(res)
            continue
        lines.append(f"| {res.backend} | {res.applies_ok} | {res.lock_refusals} | "
                     f"{res.applies_per_second:.2f} | {res.slowest_apply:.2f} s | "
                     f"{res.reads_ok} | {len(res.problems)} |")
        notes += [f"{res.backend}: {p}" for p in res.problems[:10]]
    return "\n".join([*lines, "", *notes]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--applies", type=int, default=50)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    results: list[Outcome | str] = []
    for backend in args.backends.split(","):  # one at a time, each shown when done
        results += run((backend,), writers=args.writers, applies=args.applies,
                       readers=args.readers)
        print(markdown(results[-1:], args.writers, args.applies, args.readers), flush=True)
    print(markdown(results, args.writers, args.applies, args.readers))
    held = all(not isinstance(r, str) and not r.problems for r in results)
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
