"""Cost of policies: `stackctl validate` of 10,000 components with and without 20 policies.

Both runs validate the same manifests (``benchlib.plan_corpus``: 10,000
components and 1,000 stacks in 1,001 files, one profile); the second directory
adds one file of 20 Policy manifests, every one matching every Component (the
worst case: no policy is skipped by its match), all passing. Interleaved runs,
medians. Target (issue 12): the policies add <= 25 % to validate.

    .venv/bin/python bench/bench_policies.py [--n 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
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


def policies_yaml(count: int) -> str:
    docs = []
    for i in range(count):
        docs.append(f"""apiVersion: stackctl/v1
kind: Policy
metadata: {{name: policy-{i}}}
spec:
  rules:
    - expression: "{EXPRESSIONS[i % len(EXPRESSIONS)]}"
      message: policy {i} holds
      match: {{kinds: [Component]}}
""")
    return "---\n".join(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackctl-bench-policies-"))
    try:
        plain = work / "plain"
        shape = bl.plan_corpus(plain, args.n, "prod", "/var/lib/zenml")
        with_policies = work / "policies"
        shutil.copytree(plain, with_policies)
        (with_policies / "policies.yaml").write_text(policies_yaml(args.policies))
        env = bl.env_with(STACKCTL_CONFIG_PATH=str(work / "config"))
        series = bl.compare({
            "validate": [bl.STACKCTL, "validate", str(plain)],
            f"validate + {args.policies} policies": [bl.STACKCTL, "validate",
                                                     str(with_policies)],
        }, runs=args.runs, env=env)
        base, pol = series.values()
        added = bl.ratio(pol.median, base.median) - 1
        print(f"{shape['components']} components, {shape['stacks']} stacks, "
              f"{shape['files']} files; {args.runs} runs each, interleaved\n")
        print(bl.md_table(["command", "median", "spread"],
                          [[s.label, bl.ms(s.median), s.spread()] for s in series.values()]))
        print(f"\npolicies add {added * 100:.1f} % to validate (target <= 25 %): "
              f"{bl.verdict(added <= 0.25)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
