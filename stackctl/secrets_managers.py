"""Secrets manager classes of the Python API, named as in ZenML 0.10.

Each class only names its flavor; the flavor's schema
(``schemas/flavors/secrets_manager/<flavor>.json``) validates the config.
"""

from __future__ import annotations

from stackctl.model import ComponentType
from stackctl.stack_components import StackComponent


class BaseSecretsManager(StackComponent):
    """Any secrets manager."""

    TYPE = ComponentType.SECRETS_MANAGER


class AWSSecretsManager(BaseSecretsManager):
    """Flavor ``aws`` (integration 'aws')."""

    FLAVOR = "aws"


class AzureSecretsManager(BaseSecretsManager):
    """Flavor ``azure_key_vault`` (integration 'azure')."""

    FLAVOR = "azure_key_vault"


class GCPSecretsManager(BaseSecretsManager):
    """Flavor ``gcp_secrets_manager`` (integration 'gcp')."""

    FLAVOR = "gcp_secrets_manager"


class GitHubSecretsManager(BaseSecretsManager):
    """Flavor ``github`` (integration 'github')."""

    FLAVOR = "github"


class LocalSecretsManager(BaseSecretsManager):
    """Flavor ``local`` (built into ZenML)."""

    FLAVOR = "local"


class VaultSecretsManager(BaseSecretsManager):
    """Flavor ``vault`` (integration 'vault')."""

    FLAVOR = "vault"


__all__ = [
    "AWSSecretsManager",
    "AzureSecretsManager",
    "BaseSecretsManager",
    "GCPSecretsManager",
    "GitHubSecretsManager",
    "LocalSecretsManager",
    "VaultSecretsManager",
]
