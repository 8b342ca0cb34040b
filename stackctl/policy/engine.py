"""CEL compilation and evaluation (cel-expr-python, Google's cel-cpp).

Expressions are type-checked against the two variables a rule sees, so a
syntax error, an unknown name or a type error is found when the policy is
read, not when a resource happens to reach it.

Evaluation is batched twice over (bench/bench_policies.py): the rules that
apply to a resource run as ONE expression, their conjunction, and the
resources that share a rule set run through that conjunction in chunks, ONE
CEL call per chunk (``items.map(object, conjunction)``), since each call and
each conversion of Python data into CEL values costs more than most rules do.
Rule semantics are kept: a chunk whose call fails (a rule erred on some
resource, an iteration budget ran out) is split in halves down to single
resources, and the next chunks are smaller until calls succeed again; a
resource whose conjunction is not plainly true is evaluated rule by rule, so a
rule's error is reported for that rule and hides no other rule's result.

The conjunctions call ``matches()`` with a literal pattern through a function
of ours that compiles the pattern once (stackctl/policy/regex.py); the rules
one by one are the expressions as written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stackctl.policy import regex

_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")

# Resources per CEL call. Larger chunks save little more (the per-call cost is
# spread thin by then) and come closer to cel-cpp's iteration budget per call.
CHUNK = 128
# Below this many resources a failed chunk is evaluated resource by resource.
_SPLIT_FLOOR = 4


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
        obj_type = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
        variables = {"object": obj_type, "oldObject": cel.Type.DYN}
        # The rules as written (a rule cannot call our own functions)
        self._env = cel.NewEnv(variables=variables)
        # The conjunctions, with fast ``matches()``; the chunked ones: ``object`` is the
        # comprehension's variable there, ``oldObject`` one value for the whole chunk.
        fast = [cel.FunctionDecl(regex.FUNCTION, [cel.Overload(
            "stackctl_matches_string_string", cel.Type.BOOL,
            [cel.Type.STRING, cel.Type.STRING], is_member=True, impl=self._matches)])]
        self._batch_env = cel.NewEnv(variables=variables, functions=fast)
        self._chunk_env = cel.NewEnv(variables={"items": cel.Type.List(obj_type),
                                                "oldObject": cel.Type.DYN}, functions=fast)
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._sources: list[str] = []  # as they go into conjunctions
        self._single: list[Any] = []
        # the combined programs by rule set; None: it does not compile (e.g. a rule
        # near cel-cpp's nesting limit, which the combination exceeds)
        self._batches: dict[tuple[int, ...], Any | None] = {}
        self._chunked: dict[tuple[int, ...], Any | None] = {}

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
        self._sources.append(self._fast(expression, kind))
        self._single.append(program)
        return len(self._single) - 1

    def _fast(self, expression: str, kind: Any) -> str:
        """The expression with its ``matches()`` on literal patterns made fast, where
        that compiles to the same type; else as written."""
        rewritten = regex.rewrite(expression, self._certified)
        if rewritten is None:
            return expression
        program = _compile(self._batch_env, rewritten.expression)
        if program is None or program.return_type() != kind:
            return expression
        for pattern, translated in rewritten.patterns.items():
            self._patterns[pattern] = re.compile(translated)
        return rewritten.expression

    def _certified(self, literal: str) -> bool:
        """Whether CEL's own ``matches()`` takes the pattern (RE2 refuses some that
        ``re`` takes: repetitions too large, for one)."""
        program = _compile(self._env, f"''.matches({literal})")
        try:
            value = program.eval(data={"object": {}}) if program is not None else None
        except RuntimeError:
            return False
        return value is not None and value.type() == self._cel.Type.BOOL

    def _matches(self, text: str, pattern: str) -> bool:
        """``text.matches(pattern)`` for a pattern ``_fast`` translated. A text too long
        for ``re``'s bounded work is an error: the rules as written then decide."""
        if len(text) > regex.MAX_TEXT:
            raise ValueError("left to CEL's matches()")
        return self._patterns[pattern].search(text) is not None

    def _conjunction(self, rules: tuple[int, ...]) -> str:
        return " && ".join(f"({self._sources[r]})" for r in rules)

    def failures(self, rules: tuple[int, ...], obj: dict[str, Any],
                 old: dict[str, Any] | None) -> list[tuple[int, Outcome]]:
        """(position in ``rules``, outcome) of each rule (ids from ``add``) that does
        not pass on one resource."""
        if not rules:
            return []
        if rules not in self._batches:
            self._batches[rules] = _compile(self._batch_env, self._conjunction(rules))
        batch = self._batches[rules]
        data = {"object": obj, "oldObject": old}
        try:
            if batch is not None and batch.eval(data=data).plain_value() is True:
                return []  # the common case: everything passes
        except RuntimeError:
            pass  # e.g. cel-cpp's iteration budget: each rule on its own says which
        activation = self._env.Activation(data)
        found = []
        for position, rule in enumerate(rules):
            outcome = self._one(self._single[rule], activation)
            if not outcome.passed:
                found.append((position, outcome))
        return found

    def failures_many(self, rules: tuple[int, ...],
                      objs: Sequence[dict[str, Any]]) -> list[tuple[int, int, Outcome]]:
        """(index in ``objs``, position in ``rules``, outcome) of each rule that does
        not pass on each resource, in that order; ``oldObject`` is null for all.

        A chunk's call answers with the ``address`` of each object whose conjunction
        is not true (building a list of every result costs CEL about 1 µs an
        object, more than most rules): objects without unique addresses are
        evaluated one by one."""
        if not rules or not objs:
            return []
        if rules not in self._chunked:
            self._chunked[rules] = _compile(
                self._chunk_env,
                f"items.filter(object, !({self._conjunction(rules)})).map(o, o.address)")
        program = self._chunked[rules]
        found: list[tuple[int, int, Outcome]] = []
        if program is None:  # resource by resource
            for index, obj in enumerate(objs):
                found.extend((index, position, outcome)
                             for position, outcome in self.failures(rules, obj, None))
            return found
        # A chunk whose call fails makes the next ones half as big, down to single
        # resources (a rule erring on most resources, a heavy rule); one that passes,
        # twice as big again.
        size = CHUNK
        start = 0
        while start < len(objs):
            stop = min(start + size, len(objs))
            ok = self._chunk(program, rules, objs, start, stop, found)
            size = min(CHUNK, size * 2) if ok else max(1, size // 2)
            start = stop
        return found

    def _chunk(self, program: Any, rules: tuple[int, ...], objs: Sequence[dict[str, Any]],
               start: int, stop: int, found: list[tuple[int, int, Outcome]]) -> bool:
        """Evaluate objs[start:stop] into ``found``; whether that went cleanly (its CEL
        call succeeded, or one by one its resources met no error)."""
        failing: Any = None  # the addresses of the objects not plainly passing
        suspects: Sequence[int] = range(start, stop)
        if stop - start > _SPLIT_FLOOR:
            with contextlib.suppress(RuntimeError):  # cel-cpp's iteration budget ran out
                failing = program.eval(
                    data={"items": objs[start:stop], "oldObject": None}).plain_value()
            if not isinstance(failing, list):  # or an error value: a rule erred somewhere
                middle = (start + stop) // 2
                self._chunk(program, rules, objs, start, middle, found)
                self._chunk(program, rules, objs, middle, stop, found)
                return False
            if not failing:
                return True
            where = {address: index for index in range(start, stop)
                     if type(address := objs[index].get("address")) is str}
            if len(where) == stop - start and all(type(a) is str and a in where
                                                  for a in failing):
                suspects = sorted(where[a] for a in failing)
        before = len(found)
        for index in suspects:
            found.extend((index, position, outcome)
                         for position, outcome in self.failures(rules, objs[index], None))
        return failing is not None or not any(o.error for _, _, o in found[before:])

    def _one(self, program: Any, activation: Any) -> Outcome:
        try:
            value = program.eval(activation)
        except RuntimeError as exc:
            return Outcome(False, str(exc).strip())
        if value.type() == self._cel.Type.ERROR:
            return Outcome(False, str(value))
        result = value.plain_value()
        if type(result) is not bool:
            return Outcome(False, f"the expression gave {value.type().name().lower()}, "
                                  "not a bool")
        return Outcome(result)


def _compile(env: Any, source: str) -> Any | None:
    """A program combining rules that each compiled, or None where the combination
    does not (its rules are then evaluated one by one)."""
    try:
        return env.compile(source)
    except RuntimeError:
        return None


def _cel_error(text: str) -> CelError:
    """cel-cpp's ``ERROR: <input>:L:C: message`` (first one) as a CelError."""
    for line in text.splitlines():
        found = _ERROR.search(line)
        if found:
            message = found.group(3).strip()
            return CelError(int(found.group(1)), int(found.group(2)), message)
    return CelError(1, 1, text.strip().splitlines()[0] if text.strip() else "invalid")
