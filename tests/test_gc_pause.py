"""stackctl.gc_pause: the cyclic GC off while a plan is built, and nothing left young after."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest

from stackctl.gc_pause import gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic GC frees it


def test_what_was_built_is_moved_to_the_oldest_generation_and_stays_collectable() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        built = [[i] for i in range(1000)]  # lists: always tracked by the GC
        garbage = _Node()
        alive = weakref.ref(garbage)
        del garbage
    assert gc.isenabled()
    young = {id(o) for o in gc.get_objects(generation=0)}
    # no scan of everything built when the GC runs next: none of it is young
    assert gc.is_tracked(built[0])
    assert not any(id(d) in young for d in built)
    assert any(o is built[0] for o in gc.get_objects(generation=2))
    assert alive() is not None
    gc.collect()
    assert alive() is None  # not frozen for good: a full collection frees its cycles


def test_an_inner_pause_leaves_the_gc_off() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_apply_runs_with_the_gc_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering and writing a large store must not rescan what the plan built."""
    from stackctl import apply
    from stackctl.plan import pipeline

    seen: list[bool] = []
    monkeypatch.setattr(apply, "apply_plan", lambda *_a, **_k: seen.append(gc.isenabled()))
    prepared = SimpleNamespace(plan=SimpleNamespace(changes=()),
                               planned=SimpleNamespace(compiled=SimpleNamespace(desired=None),
                                                       manifests=None))
    pipeline.execute(prepared)  # type: ignore[arg-type]
    assert seen == [False]
    assert gc.isenabled()
