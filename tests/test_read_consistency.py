"""Readers never see a half-rolled-forward commit, proven with real processes.

A writer process commits generation after generation to one local profile:
each commit adds components ``o<n>``/``a<n>``, points stack ``s`` at them and
deletes generation ``n-1`` (stacks.yaml, four component files and the
bookkeeping in one journaled commit). Through the fault seam it sleeps at every
roll-forward step, so a commit stays half-applied on disk for a long while.
Reader processes (on a slow disk: each file read
sleeps) meanwhile load the store (and list its stacks) again and
again: every read must show one whole generation, never a stack pointing at a
component file already gone or not there yet, and never an error.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Runner

WRITER = textwrap.dedent("""
    import sys, time
    from stackctl.model import Component, ComponentType, Stack
    from stackctl.stores import files
    from stackctl.workspace import Workspace

    def slow_step(step):
        if step.startswith(("apply", "delete")):
            time.sleep(0.01)
    files.fault_hook = slow_step
    O, A, M = (ComponentType.ORCHESTRATOR, ComponentType.ARTIFACT_STORE,
               ComponentType.METADATA_STORE)
    store = Workspace().store("p")
    for n in range(1, int(sys.argv[1]) + 1):
        with store.transaction() as tx:
            tx.put_component(Component(O, f"o{n}", "local", f"uo{n}", {}))
            tx.put_component(Component(A, f"a{n}", "local", f"ua{n}", {"path": f"/tmp/a{n}"}))
            tx.put_stack(Stack("s", {O: f"o{n}", A: f"a{n}", M: "default"}))
            tx.delete_component(O, f"o{n - 1}")
            tx.delete_component(A, f"a{n - 1}")
    print("done")
""")

READER = textwrap.dedent("""
    import sys, time
    from stackctl.model import ComponentType
    from stackctl.stores import read_cache, yamlio
    from stackctl.workspace import Workspace

    # a slow disk: each file read takes a while, so reads overlap the writer's commits
    def slow(read):
        def reading(*args, **kwargs):
            time.sleep(0.01)
            return read(*args, **kwargs)
        return reading
    yamlio.read_mapping = slow(yamlio.read_mapping)
    read_cache.ReadCache.read = slow(read_cache.ReadCache.read)

    O, A = ComponentType.ORCHESTRATOR, ComponentType.ARTIFACT_STORE
    store = Workspace().store("p")
    reads, bad = 0, []
    while not __import__("os").path.exists(sys.argv[1]):
        try:
            state = store.load()
            stack = state.stacks.get("s")
            if stack is not None:
                gen = stack.components[O][1:]
                names = {k[1] for k in state.components if k[0] in (O, A)}
                if names != {"default", f"o{gen}", f"a{gen}"} or stack.components[A] != f"a{gen}":
                    bad.append(f"mixed: stack {dict(stack.components)} with {sorted(names)}")
            listed = store.load_stacks().get("s")
            if listed is not None and listed.components[A][1:] != listed.components[O][1:]:
                bad.append(f"mixed stacks.yaml: {dict(listed.components)}")
        except Exception as exc:  # any error is a failure of consistency
            bad.append(f"{type(exc).__name__}: {exc}")
        reads += 1
    print(reads, len(bad))
    print("\\n".join(bad[:5]))
""")


@pytest.mark.slow
def test_readers_race_commits_and_see_before_or_after(run: Runner, workdir: Path,
                                                      tmp_path: Path) -> None:
    assert run("profile", "create", "p").rc == 0
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(stop)], cwd=workdir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        writer = subprocess.run([sys.executable, "-c", WRITER, "25"], cwd=workdir,
                                capture_output=True, text=True, timeout=300, check=False)
    finally:
        stop.touch()
    outputs = [r.communicate(timeout=120) for r in readers]
    assert writer.returncode == 0, writer.stderr
    assert writer.stdout.strip() == "done"
    for out, err in outputs:
        assert err == ""
        reads, bad = map(int, out.splitlines()[0].split())
        assert reads > 0
        assert bad == 0, out
