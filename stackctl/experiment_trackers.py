"""Experiment tracker classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/experiment_tracker/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseExperimentTracker(StackComponent):
    """Any experiment tracker."""

    TYPE = ComponentType.EXPERIMENT_TRACKER


class MLFlowExperimentTracker(BaseExperimentTracker):
    """Flavor ``mlflow`` (integration 'mlflow')."""

    FLAVOR = "mlflow"


class WandbExperimentTracker(BaseExperimentTracker):
    """Flavor ``wandb`` (integration 'wandb')."""

    FLAVOR = "wandb"


__all__ = [
    "BaseExperimentTracker",
    "MLFlowExperimentTracker",
    "WandbExperimentTracker",
]
