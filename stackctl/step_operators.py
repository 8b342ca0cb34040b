"""Step operator classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/step_operator/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseStepOperator(StackComponent):
    """Any step operator."""

    TYPE = ComponentType.STEP_OPERATOR


class AzureMLStepOperator(BaseStepOperator):
    """Flavor ``azureml`` (integration 'azure')."""

    FLAVOR = "azureml"


class SagemakerStepOperator(BaseStepOperator):
    """Flavor ``sagemaker`` (integration 'aws')."""

    FLAVOR = "sagemaker"


class VertexStepOperator(BaseStepOperator):
    """Flavor ``vertex`` (integration 'gcp')."""

    FLAVOR = "vertex"


__all__ = [
    "AzureMLStepOperator",
    "BaseStepOperator",
    "SagemakerStepOperator",
    "VertexStepOperator",
]
