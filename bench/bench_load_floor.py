"""How far above a bare libyaml parse is stackctl's manifest loader?

Writes 1,000 small (15-line) manifest files to a temporary directory and times,
in one process, ``stackctl.compiler.load.load_file`` against the floor:
``list(yaml.load_all(data, Loader=yaml.CSafeLoader))`` over the same files.
Both sides read the files from disk; the best of several rounds is reported.
Also timed: locating one value in every file, which recomposes each file once
(the cost a validation error pays, not a successful load).

    .venv/bin/python bench/bench_load_floor.py [--files 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from stackctl.compiler.load import load_file, load_text

MANIFEST = """\
apiVersion: stackctl/v1
kind: Component
metadata:
  name: artifacts-{i}
  profile: production
  labels: {{team: ml, tier: "{tier}"}}
spec:
  type: artifact_store
  flavor: s3
  config:
    path: s3://bucket-{i}/zenml
    region: eu-west-1
    retries: {retries}
    verify: true
    endpoint: null
"""


def write_files(root: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = root / f"m{i:04d}.yaml"
        path.write_text(MANIFEST.format(i=i, tier=i % 3, retries=i % 7), encoding="utf-8")
        paths.append(path)
    return paths


def best_of(rounds: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    assert yaml.__with_libyaml__, "PyYAML without libyaml: the floor would be meaningless"

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_files(Path(tmp), args.files)
        texts = [p.read_text(encoding="utf-8") for p in paths]
        cases: dict[str, Callable[[], object]] = {
            "bare CSafeLoader (files)": lambda: [
                list(yaml.load_all(p.read_bytes(), Loader=yaml.CSafeLoader)) for p in paths
            ],
            "stackctl load_file": lambda: [load_file(p) for p in paths],
            "bare CSafeLoader (in memory)": lambda: [
                list(yaml.load_all(t, Loader=yaml.CSafeLoader)) for t in texts
            ],
            "stackctl load_text": lambda: [
                load_text(t, p) for t, p in zip(texts, paths, strict=True)
            ],
        }
        for run in cases.values():  # warm caches and imports before timing
            run()
        # Rounds interleave the cases so a busy machine slows all of them alike.
        times = dict.fromkeys(cases, float("inf"))
        for _ in range(args.rounds):
            for name, run in cases.items():
                times[name] = min(times[name], best_of(1, run))

        # Positions are recomposed on the first locate of a file: the error path.
        docs = [d for t, p in zip(texts, paths, strict=True) for d in load_text(t, p)]
        start = time.perf_counter()
        for doc in docs:
            doc.locate(("spec", "config", "path"))
        times["locate once per file"] = time.perf_counter() - start

    for name, seconds in times.items():
        print(f"{name:30} {seconds * 1000:8.1f} ms")
    files = times["stackctl load_file"] / times["bare CSafeLoader (files)"]
    memory = times["stackctl load_text"] / times["bare CSafeLoader (in memory)"]
    print(f"ratio, files from disk: {files:.2f}x   in memory: {memory:.2f}x")


if __name__ == "__main__":
    main()
