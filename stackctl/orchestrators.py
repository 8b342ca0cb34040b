"""Orchestrator classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/orchestrator/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseOrchestrator(StackComponent):
    """Any orchestrator."""

    TYPE = ComponentType.ORCHESTRATOR


class AirflowOrchestrator(BaseOrchestrator):
    """Flavor ``airflow`` (integration 'airflow')."""

    FLAVOR = "airflow"


class GitHubActionsOrchestrator(BaseOrchestrator):
    """Flavor ``github`` (integration 'github')."""

    FLAVOR = "github"


class KubeflowOrchestrator(BaseOrchestrator):
    """Flavor ``kubeflow`` (integration 'kubeflow')."""

    FLAVOR = "kubeflow"


class KubernetesOrchestrator(BaseOrchestrator):
    """Flavor ``kubernetes`` (integration 'kubernetes')."""

    FLAVOR = "kubernetes"


class LocalOrchestrator(BaseOrchestrator):
    """Flavor ``local`` (built into ZenML)."""

    FLAVOR = "local"


class VertexOrchestrator(BaseOrchestrator):
    """Flavor ``vertex`` (integration 'gcp')."""

    FLAVOR = "vertex"


__all__ = [
    "AirflowOrchestrator",
    "BaseOrchestrator",
    "GitHubActionsOrchestrator",
    "KubeflowOrchestrator",
    "KubernetesOrchestrator",
    "LocalOrchestrator",
    "VertexOrchestrator",
]
