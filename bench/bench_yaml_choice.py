"""Which YAML parser for the manifest loader's fast path: speed, then correctness.

Candidates from the package index with wheels for CPython 3.10+ on x86_64 Linux
(checked with ``pip install --only-binary=:all:``):

  libyaml (PyYAML CSafeLoader)  today's loader: compose in C, construct in Python
  yaml-rs        Rust (saphyr-based), YAML 1.2, builds Python values in Rust
  ryaml          Rust (serde_yaml), builds Python values in Rust
  pyyaml-rs      Rust, a PyYAML-like API
  rapidyaml      C++ (ryml), a tree of raw scalars (no typing): Python walks it

Speed: parse every file of a 10,000-file manifest corpus (bench's validate
corpus, already in memory), best of 3. Correctness against the loader
(stackctl.compiler.load.compose_documents, the reference): (a) the scalar table
of tests/test_fastyaml.py as ``value: X`` -- same value and type as the loader,
or refused; (b) the loader's bad inputs (tests/cases/load/bad/*.yaml: duplicate
keys, non-string keys, alias bombs, tags, tabs, control characters...) --
refused like the loader, or silently accepted.

Run in a venv holding every candidate and PyYAML, with the repository on the path:

    python3 -m venv /tmp/yamlcand && /tmp/yamlcand/bin/pip install --only-binary=:all: \\
        pyyaml yaml-rs ryaml pyyaml-rs rapidyaml
    PYTHONPATH=. /tmp/yamlcand/bin/python bench/bench_yaml_choice.py
"""

from __future__ import annotations

import importlib.metadata
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import benchlib as bl
from test_fastyaml import SCALARS

from stackctl.compiler.load import ManifestError, compose_documents
from stackctl.yamlfast import fast_documents

BAD = bl.ROOT / "tests" / "cases" / "load" / "bad"


def _ryml_loader() -> Callable[[str], Any]:
    import ryml

    from stackctl.yamlfast import plain_scalar

    def convert(tree: Any, node: int) -> Any:
        if tree.is_map(node):
            out = {}
            child = tree.first_child(node)
            while child != ryml.NONE:
                out[bytes(tree.key(child)).decode()] = convert(tree, child)
                child = tree.next_sibling(child)
            return out
        if tree.is_seq(node):
            items = []
            child = tree.first_child(node)
            while child != ryml.NONE:
                items.append(convert(tree, child))
                child = tree.next_sibling(child)
            return items
        text = bytes(tree.val(node)).decode()
        return text if tree.is_val_quoted(node) else plain_scalar(text)

    def load(text: str) -> Any:
        tree = ryml.parse_in_arena(text.encode())
        root = tree.root_id()
        if tree.is_stream(root):
            root = tree.first_child(root)
        return convert(tree, root)

    return load


def candidates() -> dict[str, tuple[str, Callable[[str], Any]]]:
    import yaml

    def libyaml(text: str) -> Any:
        return compose_documents(text, Path("x.yaml"))[0].data

    found: dict[str, tuple[str, Callable[[str], Any]]] = {
        "libyaml (stackctl loader)": (f"PyYAML {yaml.__version__}", libyaml)}
    try:
        import yaml_rs

        found["yaml-rs"] = (importlib.metadata.version("yaml-rs"),
                            lambda t: yaml_rs.loads(t, parse_datetime=False))

        def fast(text: str) -> Any:
            docs = fast_documents(text)
            return libyaml(text) if docs is None else docs[0][3]

        found["stackctl fast path (yaml-rs, guarded)"] = (
            importlib.metadata.version("yaml-rs"), fast)
    except ImportError:
        pass
    try:
        import ryaml

        found["ryaml"] = (importlib.metadata.version("ryaml"), ryaml.loads)
    except ImportError:
        pass
    try:
        import pyyaml_rs

        found["pyyaml-rs"] = (importlib.metadata.version("pyyaml-rs"), pyyaml_rs.safe_load)
    except ImportError:
        pass
    try:
        import ryml

        found["rapidyaml, tree only (no Python values)"] = (
            importlib.metadata.version("rapidyaml"), lambda t: ryml.parse_in_arena(t.encode()))
        found["rapidyaml + 1.1 typing in Python"] = (importlib.metadata.version("rapidyaml"),
                                                     _ryml_loader())
    except ImportError:
        pass
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bl.validate_corpus(Path(tmp), 10_000)
        texts = [p.read_text() for p in sorted(Path(tmp).rglob("*.yaml"))]
    scalars = [f"value: {s}\n" for s in SCALARS]
    bad = [p.read_text("utf-8", errors="replace") for p in sorted(BAD.glob("*.yaml"))]
    rows = []
    for name, (version, load) in candidates().items():
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            for text in texts:
                load(text)
            best = min(best, time.perf_counter() - start)
        same = refused = 0
        for text in scalars:
            try:
                want: Any = compose_documents(text, Path("x.yaml"))[0].data
            except ManifestError:
                want = None  # the loader refuses: so should the candidate
            try:
                got = load(text)
            except Exception:
                refused += 1
                same += want is None
                continue
            same += want is not None and _same(got, want)
        accepted = 0
        for text in bad:
            try:
                compose_documents(text, Path("x.yaml"))
                continue  # fine for the loader (e.g. a multi-document file)
            except ManifestError:
                pass
            try:
                load(text)
                accepted += 1
            except Exception:
                continue
        rows.append((name, version, f"{best * 1000:.0f} ms",
                     f"{same}/{len(scalars)} as the loader ({refused} refused)",
                     f"{accepted} accepted"))
    print(bl.md_table(["parser", "version", "parse 10,000 files",
                       "scalar table vs loader", "loader's bad inputs silently"], rows))


if __name__ == "__main__":
    main()
