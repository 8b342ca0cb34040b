"""stackctl: GitOps for MLOps stacks (ZenML 0.x profiles, stacks and components)."""

__version__ = "0.1.0"
