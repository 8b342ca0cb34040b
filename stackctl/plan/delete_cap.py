"""The cap on deletions: one plan may delete at most N objects.

The "prune deleted everything" accident is a plan that deletes far more than
anyone meant. The cap comes from ``--max-deletes N``, else the project file's
``maxDeletes``; a plan over it is refused at plan time (so also by apply, which
plans first), with the count and the flag that allows it.
"""

from __future__ import annotations

from stackctl.errors import StackctlError
from stackctl.plan.model import Plan


class DeleteCapError(StackctlError):
    """A plan deletes more objects than the cap allows."""

    rule = "max-deletes"


def check_delete_cap(plan: Plan, flag: int | None, project_cap: int | None) -> None:
    """Raise DeleteCapError when ``plan`` deletes more than the cap (the flag wins)."""
    cap, source = ((flag, "--max-deletes") if flag is not None else
                   (project_cap, "maxDeletes in stackctl.yaml"))
    if cap is None:
        return
    deletes = plan.counts["delete"]
    if deletes > cap:
        raise DeleteCapError(
            f"The plan deletes {deletes} object{'s' * (deletes != 1)}, more than the cap of "
            f"{cap} ({source}); nothing was planned or applied.",
            hint=f"Check the deletions with `stackctl plan`; to allow them, pass "
                 f"--max-deletes {deletes}.")
