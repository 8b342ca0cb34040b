"""Alerter classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/alerter/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseAlerter(StackComponent):
    """Any alerter."""

    TYPE = ComponentType.ALERTER


class SlackAlerter(BaseAlerter):
    """Flavor ``slack`` (integration 'slack')."""

    FLAVOR = "slack"


__all__ = [
    "BaseAlerter",
    "SlackAlerter",
]
