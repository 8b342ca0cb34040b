"""CEL compilation and evaluation (cel-expr-python, Google's cel-cpp).

Expressions are type-checked against the two variables a rule sees, so a
syntax error, an unknown name or a type error is found when the policy is
read, not when a resource happens to reach it. Evaluation is batched: the rules
that apply to a resource run as ONE program, their conjunction, which costs
a fraction of running them one by one (bench/bench_policies.py); only a resource
whose conjunction is not plainly true is evaluated rule by rule, to find which
rules failed or erred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")


class CelError(Exception):
    """A rule that does not compile: where in the expression (1-based) and why."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


@dataclass(frozen=True)
class Outcome:
    passed: bool
    error: str | None = None  # the evaluation failed (no such key, not a bool, …)


class Engine:
    """One CEL environment: ``object`` (a map) and ``oldObject`` (a map or null)."""

    def __init__(self) -> None:
        from cel_expr_python import cel

        self._cel = cel
        self._env = cel.NewEnv(variables={
            "object": cel.Type.Map(cel.Type.STRING, cel.Type.DYN),
            "oldObject": cel.Type.DYN})
        self._sources: list[str] = []
        self._single: list[Any] = []
        self._batches: dict[tuple[int, ...], Any] = {}

    def add(self, expression: str) -> int:
        """Compile and type-check one rule; its id. Raises CelError."""
        cel = self._cel
        try:
            program = self._env.compile(expression)
        except RuntimeError as exc:
            raise _cel_error(str(exc)) from None
        kind = program.return_type()
        if kind not in (cel.Type.BOOL, cel.Type.DYN):
            raise CelError(1, 1, f"the expression must be a bool, it is {kind.name().lower()}")
        self._sources.append(expression)
        self._single.append(program)
        return len(self._single) - 1

    def failures(self, rules: tuple[int, ...], obj: dict[str, Any],
                 old: dict[str, Any] | None) -> list[tuple[int, Outcome]]:
        """(position in ``rules``, outcome) of each rule (ids from ``add``) that does
        not pass on one resource."""
        if not rules:
            return []
        batch = self._batches.get(rules)
        if batch is None:
            source = " && ".join(f"({self._sources[r]})" for r in rules)
            batch = self._batches[rules] = self._env.compile(source)
        data = {"object": obj, "oldObject": old}
        if batch.eval(data=data).plain_value() is True:
            return []  # the common case: everything passes
        activation = self._env.Activation(data)
        found = []
        for position, rule in enumerate(rules):
            outcome = self._one(self._single[rule], activation)
            if not outcome.passed:
                found.append((position, outcome))
        return found

    def _one(self, program: Any, activation: Any) -> Outcome:
        value = program.eval(activation)
        if value.type() == self._cel.Type.ERROR:
            return Outcome(False, str(value))
        result = value.plain_value()
        if type(result) is not bool:
            return Outcome(False, f"the expression gave {value.type().name().lower()}, "
                                  "not a bool")
        return Outcome(result)


def _cel_error(text: str) -> CelError:
    """cel-cpp's ``ERROR: <input>:L:C: message`` (first one) as a CelError."""
    for line in text.splitlines():
        found = _ERROR.search(line)
        if found:
            message = found.group(3).strip()
            return CelError(int(found.group(1)), int(found.group(2)), message)
    return CelError(1, 1, text.strip().splitlines()[0] if text.strip() else "invalid")
