"""Metadata store classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/metadata_store/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseMetadataStore(StackComponent):
    """Any metadata store."""

    TYPE = ComponentType.METADATA_STORE


class KubeflowMetadataStore(BaseMetadataStore):
    """Flavor ``kubeflow`` (integration 'kubeflow')."""

    FLAVOR = "kubeflow"


class KubernetesMetadataStore(BaseMetadataStore):
    """Flavor ``kubernetes`` (integration 'kubernetes')."""

    FLAVOR = "kubernetes"


class MySQLMetadataStore(BaseMetadataStore):
    """Flavor ``mysql`` (built into ZenML)."""

    FLAVOR = "mysql"


class SQLiteMetadataStore(BaseMetadataStore):
    """Flavor ``sqlite`` (built into ZenML)."""

    FLAVOR = "sqlite"


__all__ = [
    "BaseMetadataStore",
    "KubeflowMetadataStore",
    "KubernetesMetadataStore",
    "MySQLMetadataStore",
    "SQLiteMetadataStore",
]
