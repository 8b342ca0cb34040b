"""Which CEL implementation for policies: correctness on conformance-style cases, then speed.

Candidates from the package index (all maintained in 2026):

  cel-expr-python             Google's CEL C++ runtime (cel-cpp), with the type checker
  common-expression-language  Rust (cel-rust) bindings, package ``cel``
  cel-python                  pure Python (``celpy``)
  python-cel                  Rust (cel-rust) bindings, also package ``cel``: it clashes
                              with common-expression-language, so give it its own venv

Each candidate runs in its own interpreter (``--candidate NAME=PYTHON``), so that
two packages that both install ``cel`` can be compared. Cases are modelled on
cel-spec's conformance suite (tests/simple/testdata: basic, logic, macros,
integer overflow, errors absorbed by ``&&``/``||``, heterogeneous equality,
strings, timestamps) plus the "static" cases a policy author needs caught before
any resource is evaluated: type errors and undeclared names (which only a type
checker finds at compile time).

Speed: compile 20 policy expressions, then evaluate each over 10,000 resources
shaped like stackctl's policy input (``object`` a nested map), as
microseconds per evaluation, and against a plain Python predicate doing the same
check (the floor of any evaluator).

    python bench/bench_cel_choice.py --candidate cel-expr-python=/tmp/v1/bin/python \\
        --candidate common-expression-language=/tmp/v1/bin/python \\
        --candidate cel-python=/tmp/v1/bin/python --candidate python-cel=/tmp/v2/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

ERR = "<error>"
OBJ = {"metadata": {"name": "s3-main", "profile": "prod", "labels": {"team": "ml"}},
       "spec": {"type": "artifact_store", "flavor": "s3",
                "config": {"path": "s3://ml-bucket/zenml"}}}
# (expression, variables, expected) — expected ERR: must be an error (compile or eval)
CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("1 + 2 == 3", {}, True),
    ("7 / 2 == 3 && -5 % 3 == -2", {}, True),
    ("3u + 2u == 5u", {}, True),
    ("'a' + 'b' == 'ab' && [1, 2] + [3] == [1, 2, 3]", {}, True),
    ("'abc'.startsWith('ab') && 'abc'.endsWith('c') && 'abc'.contains('b')", {}, True),
    ("'abc'.matches('^a.c$')", {}, True),
    ("size('héllo') == 5", {}, True),
    ("[1, 2, 3].all(x, x > 0)", {}, True),
    ("[1, 2, 3].exists(x, x == 4)", {}, False),
    ("[1, 2, 3].exists_one(x, x == 2)", {}, True),
    ("[1, 2, 3].map(x, x * 2) == [2, 4, 6]", {}, True),
    ("size([1, 2, 3].filter(x, x > 1)) == 2", {}, True),
    ("{'a': 1}['a'] == 1 && 'a' in {'a': 1} && 'b' in ['a', 'b']", {}, True),
    ("has(object.spec.config.path)", {"object": OBJ}, True),
    ("has(object.spec.config.region)", {"object": OBJ}, False),
    ("object.spec.config.path.startsWith('s3://ml-')", {"object": OBJ}, True),
    ("object.metadata.labels.team == 'ml'", {"object": OBJ}, True),
    ("object.spec.config.region == 'x'", {"object": OBJ}, ERR),  # no such key
    ("1 / 0 == 0", {}, ERR),
    ("9223372036854775807 + 1 > 0", {}, ERR),  # int64 overflow is an error
    ("false && (1 / 0 == 0)", {}, False),  # errors absorbed by && / ||
    ("(1 / 0 == 0) || true", {}, True),
    ("1 == 1.0", {}, True),  # heterogeneous numeric equality (cel-spec since 2022)
    ("null == null && type(1) == int", {}, True),
    ("int('42') == 42 && string(42) == '42'", {}, True),
    ("timestamp('2024-01-01T00:00:00Z') < timestamp('2025-01-01T00:00:00Z')", {}, True),
    ("duration('1h') == duration('60m')", {}, True),
    ("1 < 'a'", {}, ERR),
]
# Must be rejected when the expression is compiled, before any resource is seen.
STATIC_ERRORS = ["1 + 'a' == 2", "undeclared == 1", "size(1) == 1", "object.spec.type ==",
                 "object.spec.type.startsWith(1)"]
POLICIES = [
    "object.spec.type != 'orchestrator' || object.spec.flavor != 'local'",
    "!(object.spec.flavor == 's3') || object.spec.config.path.startsWith('s3://ml-')",
    "object.metadata.name.size() < 64",
    "!has(object.metadata.labels) || object.metadata.labels.team != ''",
    "object.metadata.profile in ['prod', 'staging', 'dev']",
]


def _adapter(name: str) -> tuple[Any, Any]:
    """(compile(expr) -> program, run(program, vars) -> python value) for one library."""
    if name == "cel-expr-python":
        from cel_expr_python import cel

        env = cel.NewEnv(variables={"object": cel.Type.Map(cel.Type.STRING, cel.Type.DYN)})

        def c1(expr: str) -> Any:
            return env.compile(expr)

        def r1(prog: Any, variables: dict[str, Any]) -> Any:
            value = prog.eval(env.Activation(variables))
            if value.type() == cel.Type.ERROR:
                raise RuntimeError(str(value))
            return value.plain_value()
        return c1, r1
    if name in ("common-expression-language", "python-cel"):
        import cel as rcel  # type: ignore[import-not-found]

        if name == "python-cel":
            def c2(expr: str) -> Any:
                return rcel.Program(expr)
        else:
            def c2(expr: str) -> Any:
                return rcel.compile(expr)

        def r2(prog: Any, variables: dict[str, Any]) -> Any:
            if name == "python-cel":
                return prog.execute(rcel.Context(variables=variables))
            return prog.execute(variables)
        return c2, r2
    if name == "cel-python":
        import celpy

        env = celpy.Environment()

        def c3(expr: str) -> Any:
            return env.program(env.compile(expr))

        def r3(prog: Any, variables: dict[str, Any]) -> Any:
            value = prog.evaluate({k: celpy.json_to_cel(v) for k, v in variables.items()})
            if isinstance(value, celpy.CELEvalError):
                raise RuntimeError(str(value))
            return value
        return c3, r3
    raise SystemExit(f"unknown candidate {name}")


def worker(name: str) -> dict[str, Any]:
    comp, run = _adapter(name)
    passed, failures = 0, []
    for expr, variables, expected in CASES:
        try:
            got: Any = run(comp(expr), variables)
            # celpy answers its own BoolType/IntType, equal to the Python values
            ok = expected != ERR and not isinstance(got, str) and bool(got == expected)
        except BaseException as exc:  # python-cel panics (a BaseException) on 1 / 0
            got, ok = f"error: {str(exc).splitlines()[0][:60]}", expected == ERR
        passed += ok
        if not ok:
            failures.append(f"{expr} -> {got!r}")
    static = 0
    for expr in STATIC_ERRORS:
        try:
            comp(expr)
        except BaseException:
            static += 1
    objects = [{"metadata": {"name": f"c{i}", "profile": "prod", "labels": {"team": "ml"}},
                "spec": {"type": "artifact_store", "flavor": "s3" if i % 2 else "local",
                         "config": {"path": f"s3://ml-b{i}"}}} for i in range(10_000)]
    start = time.perf_counter()
    programs = [comp(POLICIES[i % len(POLICIES)]) for i in range(20)]
    compile_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    for prog in programs[:5]:
        for obj in objects:
            run(prog, {"object": obj})
    per_eval_us = (time.perf_counter() - start) / (5 * len(objects)) * 1e6
    start = time.perf_counter()
    for _ in range(5):
        for obj in objects:
            _ = obj["spec"]["flavor"] != "s3" or obj["spec"]["config"]["path"].startswith("s3://")
    floor_us = (time.perf_counter() - start) / (5 * len(objects)) * 1e6
    return {"candidate": name, "passed": passed, "cases": len(CASES), "failures": failures,
            "static": static, "static_cases": len(STATIC_ERRORS), "compile20_ms": compile_ms,
            "eval_us": per_eval_us, "python_floor_us": floor_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", default=[], metavar="NAME=PYTHON")
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    print("| candidate | conformance-style cases | static errors caught at compile | "
          "compile 20 | µs/eval | x plain Python |")
    print("|---|---|---|---|---|---|")
    for spec in args.candidate or [f"{n}={sys.executable}" for n in (
            "cel-expr-python", "common-expression-language", "cel-python")]:
        name, python = spec.split("=", 1)
        out = subprocess.run([python, __file__, "--worker", name], capture_output=True,
                             text=True, check=False)
        if out.returncode:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1:]} | | | | |")
            continue
        r = json.loads(out.stdout)
        print(f"| {name} | {r['passed']}/{r['cases']} | {r['static']}/{r['static_cases']} | "
              f"{r['compile20_ms']:.1f} ms | {r['eval_us']:.2f} | "
              f"{r['eval_us'] / r['python_floor_us']:.0f}x |")
        for failure in r["failures"]:
            print(f"|   fails: `{failure}` | | | | | |")


if __name__ == "__main__":
    main()
