"""Artifact store classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/artifact_store/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseArtifactStore(StackComponent):
    """Any artifact store."""

    TYPE = ComponentType.ARTIFACT_STORE


class AzureArtifactStore(BaseArtifactStore):
    """Flavor ``azure`` (integration 'azure')."""

    FLAVOR = "azure"


class GCPArtifactStore(BaseArtifactStore):
    """Flavor ``gcp`` (integration 'gcp')."""

    FLAVOR = "gcp"


class LocalArtifactStore(BaseArtifactStore):
    """Flavor ``local`` (built into ZenML)."""

    FLAVOR = "local"


class S3ArtifactStore(BaseArtifactStore):
    """Flavor ``s3`` (integration 's3')."""

    FLAVOR = "s3"


__all__ = [
    "AzureArtifactStore",
    "BaseArtifactStore",
    "GCPArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
]
