"""`stackctl apply` and no-op `stackctl plan` of N components on every store backend.

The same manifests (one profile, N components, a stack) are applied with the
real CLI to a profile whose store is local (YAML), SQLite, PostgreSQL or
MariaDB, then planned again (no changes); times are reported as ratios to the
local store measured in the same run. PostgreSQL and MariaDB get a scratch
database each, dropped afterwards; an unreachable server is reported, not fatal.

    .venv/bin/python bench/bench_backends_cli.py [--n 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pymysql
from benchlib import stackctl_exe  # type: ignore[import-not-found]

PROFILE = "bench"


def write_manifests(root: Path, n: int, store: str) -> None:
    root.mkdir(parents=True)
    (root / "profile.yaml").write_text(
        f"apiVersion: stackctl/v1\nkind: Profile\nmetadata: {{name: {PROFILE}}}\n"
        f"spec:\n  store: {store}\n  activeStack: main\n")
    chunk = 500  # several documents per file, as teams keep them
    for start in range(0, n, chunk):
        docs = [
            f"apiVersion: stackctl/v1\nkind: Component\n"
            f"metadata: {{name: artifacts-{i:06d}, profile: {PROFILE}}}\n"
            f"spec:\n  type: artifact_store\n  flavor: local\n"
            f"  config: {{path: /srv/ml/artifacts-{i}}}\n"
            for i in range(start, min(n, start + chunk))]
        (root / f"components-{start:06d}.yaml").write_text("---\n".join(docs))
    (root / "stack.yaml").write_text(
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: main, profile: {PROFILE}}}\n"
        "spec:\n  components: {orchestrator: default, metadata_store: default, "
        "artifact_store: artifacts-000000}\n")


@contextmanager
def postgres() -> Iterator[str | None]:
    name = f"stackctl_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True)
    except psycopg.Error as exc:
        print(f"postgresql: unreachable ({exc})")
        yield None
        return
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def mariadb() -> Iterator[str | None]:
    name = f"stackctl_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    except pymysql.MySQLError as exc:
        print(f"mariadb: unreachable ({exc})")
        yield None
        return
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
        admin.close()


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([stackctl_exe(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stackctl {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measure(backend: str, store: str, n: int, url: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix=f"stackctl-bench-{backend}-") as tmp:
        root = Path(tmp)
        write_manifests(root / "manifests", n, store)
        env = {**os.environ, "STACKCTL_CONFIG_PATH": str(root / "config"),
               "STACKCTL_CACHE_DIR": str(root / "cache"), "NO_COLOR": "1"}
        if url:
            env["BENCH_DB_URL"] = url
        apply = timed(["apply", "manifests", "--auto-approve"], env, root)
        timed(["plan", "manifests"], env, root)  # warm-up (caches, bytecode)
        plan = min(timed(["plan", "manifests", "--detailed-exitcode"], env, root)
                   for _ in range(3))
        return apply, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    n = parser.parse_args().n
    results: dict[str, tuple[float, float]] = {}
    results["local"] = measure("local", "{type: local}", n, None)
    results["sqlite"] = measure("sqlite", "{type: sql, url: 'sqlite:///%s'}" % (
        Path(tempfile.gettempdir()) / f"stackctl-bench-{uuid.uuid4().hex[:6]}.db"), n, None)
    with postgres() as url:
        if url:
            results["postgresql"] = measure("postgresql", "{type: sql, urlFromEnv: BENCH_DB_URL}",
                                            n, url)
    with mariadb() as url:
        if url:
            results["mariadb"] = measure("mariadb", "{type: sql, urlFromEnv: BENCH_DB_URL}",
                                         n, url)
    base_apply, base_plan = results["local"]
    print(f"{n} components through the CLI (apply once; no-op plan best of 3), seconds")
    print(f"{'backend':<12}{'apply':>9}{'ratio':>8}{'plan':>9}{'ratio':>8}")
    for name, (apply, plan) in results.items():
        print(f"{name:<12}{apply:>9.2f}{apply / base_apply:>7.2f}x{plan:>9.2f}"
              f"{plan / base_plan:>7.2f}x")


if __name__ == "__main__":
    main()
