"""Policies as code: ``kind: Policy`` manifests with rules in CEL over the desired state.

``model`` reads Policy documents into rules, matches and exceptions; ``engine``
compiles the expressions (with CEL's type checker, so a typo is a located error
before any resource is seen) and evaluates them; ``check`` turns violations and
expired exceptions into located diagnostics. The CEL runtime is
cel-expr-python (Google's cel-cpp); bench/bench_cel_choice.py shows why.
"""
