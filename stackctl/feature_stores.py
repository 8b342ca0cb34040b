"""Feature store classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/feature_store/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseFeatureStore(StackComponent):
    """Any feature store."""

    TYPE = ComponentType.FEATURE_STORE


class FeastFeatureStore(BaseFeatureStore):
    """Flavor ``feast`` (integration 'feast')."""

    FLAVOR = "feast"


__all__ = [
    "BaseFeatureStore",
    "FeastFeatureStore",
]
