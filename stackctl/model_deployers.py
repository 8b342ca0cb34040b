"""Model deployer classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/model_deployer/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseModelDeployer(StackComponent):
    """Any model deployer."""

    TYPE = ComponentType.MODEL_DEPLOYER


class MLFlowModelDeployer(BaseModelDeployer):
    """Flavor ``mlflow`` (integration 'mlflow')."""

    FLAVOR = "mlflow"


class SeldonModelDeployer(BaseModelDeployer):
    """Flavor ``seldon`` (integration 'seldon')."""

    FLAVOR = "seldon"


__all__ = [
    "BaseModelDeployer",
    "MLFlowModelDeployer",
    "SeldonModelDeployer",
]
