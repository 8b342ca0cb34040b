"""Container registry classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/container_registry/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseContainerRegistry(StackComponent):
    """Any container registry."""

    TYPE = ComponentType.CONTAINER_REGISTRY


class AWSContainerRegistry(BaseContainerRegistry):
    """Flavor ``aws`` (integration 'aws')."""

    FLAVOR = "aws"


class AzureContainerRegistry(BaseContainerRegistry):
    """Flavor ``azure`` (built into ZenML)."""

    FLAVOR = "azure"


class DefaultContainerRegistry(BaseContainerRegistry):
    """Flavor ``default`` (built into ZenML)."""

    FLAVOR = "default"


class DockerHubContainerRegistry(BaseContainerRegistry):
    """Flavor ``dockerhub`` (built into ZenML)."""

    FLAVOR = "dockerhub"


class GCPContainerRegistry(BaseContainerRegistry):
    """Flavor ``gcp`` (built into ZenML)."""

    FLAVOR = "gcp"


class GitHubContainerRegistry(BaseContainerRegistry):
    """Flavor ``github`` (built into ZenML)."""

    FLAVOR = "github"


class GitLabContainerRegistry(BaseContainerRegistry):
    """Flavor ``gitlab`` (built into ZenML)."""

    FLAVOR = "gitlab"


__all__ = [
    "AWSContainerRegistry",
    "AzureContainerRegistry",
    "BaseContainerRegistry",
    "DefaultContainerRegistry",
    "DockerHubContainerRegistry",
    "GCPContainerRegistry",
    "GitHubContainerRegistry",
    "GitLabContainerRegistry",
]
