"""Cost of policies: `stackctl validate` of 10,000 components with and without 20 policies.

Both runs validate the same manifests (``benchlib.plan_corpus``: 10,000
components and 1,000 stacks in 1,001 files, one profile); the second directory
adds one file of 20 Policy manifests, every one matching every Component (the
worst case: no policy is skipped by its match), all passing; a third directory
has the same policies but one of them, a ``warn``, fails on 1 % of the
components (their warnings are printed). The 20 policies are the 10 expressions
below twice over; stackctl shares no work between equal expressions, so that is
20 rules' worth of evaluation. Interleaved runs, medians. Target (issue 12): the
policies add <= 25 % to validate (aim <= 12 %: validate itself is getting faster);
the absolute cost is printed too, in ms per 10,000 resources x 20 policies, and
the same figures in CPU time (user + sys of the child, a second interleaved pass),
which other work on a shared machine disturbs less than wall time.

``--baseline-src DIR`` adds the three runs of another stackctl source tree (e.g.
``git archive COMMIT stackctl schemas templates | tar -x -C DIR``) with the same interpreter, by
PYTHONPATH, to compare two versions in the same run (each against its own validate).

    .venv/bin/python bench/bench_policies.py [--n 10000] [--runs 5] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import benchlib as bl

EXPRESSIONS = [
    "object.metadata.name.size() < 200",
    "object.spec.flavor != 'kubeflow' || object.metadata.profile != 'dev'",
    "!has(object.spec.config.path) || !object.spec.config.path.startsWith('/etc')",
    "object.spec.type in ['orchestrator', 'artifact_store', 'metadata_store']",
    "!has(object.metadata.labels) || object.metadata.labels.all(k, k.size() > 0)",
    "object.metadata.name.matches('^[a-z0-9-]+$')",
    "oldObject == null || oldObject.spec.flavor == object.spec.flavor",
    "!has(object.spec.config.port) || object.spec.config.port > 0",
    "object.metadata.profile == 'prod' || object.spec.flavor != 'mysql'",
    "object.spec.config.size() < 50",
]


# Replaces policy 0 in the "violating" run: fails on the names ending in 00 (1 %)
VIOLATED = "!object.metadata.name.endsWith('00')"


def policies_yaml(count: int, violated: bool = False) -> str:
    docs = []
    for i in range(count):
        expression = VIOLATED if violated and i == 0 else EXPRESSIONS[i % len(EXPRESSIONS)]
        severity = "warn" if violated and i == 0 else "deny"
        docs.append(f"""apiVersion: stackctl/v1
kind: Policy
metadata: {{name: policy-{i}}}
spec:
  rules:
    - expression: "{expression}"
      message: policy {i} holds
      severity: {severity}
      match: {{kinds: [Component]}}
""")
    return "---\n".join(docs)


def cpu_medians(commands: Mapping[str, Sequence[str]], runs: int, env: Mapping[str, str],
                envs: Mapping[str, Mapping[str, str]]) -> dict[str, float]:
    """Median CPU seconds (user + sys, from the children's rusage) of each command,
    interleaved: less sensitive than wall time to the other work on a shared machine."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, env=dict(envs.get(label, env)), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[label].append(after.ru_utime - before.ru_utime
                                + after.ru_stime - before.ru_stime)
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="a stackctl source tree (holding stackctl/) to measure too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackctl-bench-policies-"))
    try:
        plain = work / "plain"
        shape = bl.plan_corpus(plain, args.n, "prod", "/var/lib/zenml")
        with_policies = work / "policies"
        shutil.copytree(plain, with_policies)
        (with_policies / "policies.yaml").write_text(policies_yaml(args.policies))
        violating = work / "violating"
        shutil.copytree(plain, violating)
        (violating / "policies.yaml").write_text(policies_yaml(args.policies, violated=True))
        env = bl.env_with(STACKCTL_CONFIG_PATH=str(work / "config"))
        label = f"validate + {args.policies} policies"
        commands = {
            "validate": [bl.STACKCTL, "validate", str(plain)],
            label: [bl.STACKCTL, "validate", str(with_policies)],
            f"{label}, 1 % violating a warn": [bl.STACKCTL, "validate", str(violating)],
        }
        envs = {}
        # each command's baseline: the same stackctl's validate without policies
        baselines = dict.fromkeys(commands, "validate")
        if args.baseline_src is not None:
            other = f" (stackctl of {args.baseline_src})"
            for name, cmd in list(commands.items()):
                commands[name + other] = cmd
                envs[name + other] = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
                baselines[name + other] = "validate" + other
        series = bl.compare(commands, runs=args.runs, env=env, envs=envs)
        print(f"{shape['components']} components, {shape['stacks']} stacks, "
              f"{shape['files']} files; {args.runs} runs each, interleaved\n")
        print(bl.md_table(["command", "median", "spread"],
                          [[s.label, bl.ms(s.median), s.spread()] for s in series.values()]))
        cpu = cpu_medians(commands, args.runs, env, envs)
        for kind, medians in (("wall", {k: s.median for k, s in series.items()}),
                              ("CPU (user+sys)", cpu)):
            print(f"\n{kind}: validate {bl.ms(medians['validate'])}")
            for name, value in medians.items():
                if name == baselines[name]:
                    continue
                base = medians[baselines[name]]
                added = bl.ratio(value, base) - 1
                cost = value - base
                per = cost * (10_000 / args.n) * (20 / args.policies)
                print(f"- {name}: {bl.ms(value)}, adds {added * 100:.1f} % (target <= 25 %: "
                      f"{bl.verdict(added <= 0.25)}; aim <= 12 %: "
                      f"{bl.verdict(added <= 0.12)}), {cost * 1000:.0f} ms = "
                      f"{per * 1000:.0f} ms per 10,000 resources x 20 policies")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
