"""Data validator classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/data_validator/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseDataValidator(StackComponent):
    """Any data validator."""

    TYPE = ComponentType.DATA_VALIDATOR


class GreatExpectationsDataValidator(BaseDataValidator):
    """Flavor ``great_expectations`` (integration 'great_expectations')."""

    FLAVOR = "great_expectations"


__all__ = [
    "BaseDataValidator",
    "GreatExpectationsDataValidator",
]
