"""Stack component operations: register, update, delete, describe."""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from stackctl import flavors, rules
from stackctl.errors import AlreadyExistsError, IntegrityError, NotFoundError
from stackctl.model import Component, ComponentType, check_name
from stackctl.workspace import Workspace

log = logging.getLogger("stackctl")


def build(ctype: ComponentType, name: str, flavor_name: str, config: Mapping[str, Any],
          custom: Mapping[Any, Any] | None = None, *, uuid: str | None = None,
          action: str = "registering") -> Component:
    """Validate ``config`` against the flavor schema and fill defaults."""
    check_name(ctype.human, name)
    flavor = flavors.get(ctype, flavor_name, custom)
    flavors.check_config(flavor, config, action=action)
    uuid = uuid or str(uuidlib.uuid4())
    filled = flavors.with_defaults(flavor, config)
    if ctype is ComponentType.SECRETS_MANAGER and flavor_name == "local" \
            and not filled.get("secrets_file"):
        # ZenML's local secrets manager puts an unset file beside its artifact stores'
        from stackctl.config.global_config import config_dir

        filled["secrets_file"] = str(config_dir() / "local_stores" / uuid / "secrets.yaml")
    return Component(type=ctype, name=name, flavor=flavor_name, uuid=uuid, config=filled)


def parse_cli_options(ctype: ComponentType, flavor_name: str, pairs: list[tuple[str, str]],
                      custom: Mapping[Any, Any] | None = None) -> dict[str, Any]:
    """``--key=value`` texts → typed config values, per the flavor's schema."""
    flavor = flavors.get(ctype, flavor_name, custom)
    return {key: flavors.coerce_cli_value(flavor, key, text) for key, text in pairs}


def register(ws: Workspace, component: Component, profile: str | None = None) -> Component:
    store = ws.store(profile)
    with store.transaction() as tx:
        if tx.before.component(component.type, component.name) is not None:
            raise AlreadyExistsError(
                f"Unable to register stack component (type: {component.type.value}) with name "
                f"'{component.name}': Found existing stack component with this name.")
        tx.put_component(component)
    log.info("Registered stack component with type '%s' and name '%s'.",
             component.type.value, component.name)
    return component


def get(ws: Workspace, ctype: ComponentType, name: str, profile: str | None = None) -> Component:
    found = ws.state(profile).component(ctype, name)
    if found is None:
        raise NotFoundError(f"No {ctype.human} found for name '{name}'.",
                            hint=f"See `stackctl {ctype.cli_name} list`.")
    return found


def update(ws: Workspace, ctype: ComponentType, name: str, pairs: list[tuple[str, str]],
           profile: str | None = None) -> Component:
    store = ws.store(profile)
    with store.transaction() as tx:
        current = tx.before.component(ctype, name)
        if current is None:
            raise NotFoundError(f"No {ctype.human} found for name '{name}'.",
                                hint=f"See `stackctl {ctype.cli_name} list`.")
        changes = parse_cli_options(ctype, current.flavor, pairs, tx.before.flavors)
        updated = build(ctype, name, current.flavor, {**dict(current.config), **changes},
                        tx.before.flavors, uuid=current.uuid, action="updating")
        tx.put_component(updated)
    log.info("Updated %s '%s'.", ctype.human, name)
    return updated


def delete(ws: Workspace, ctype: ComponentType, name: str, profile: str | None = None) -> None:
    store = ws.store(profile)
    with store.transaction() as tx:
        if tx.before.component(ctype, name) is None:
            raise NotFoundError(
                f"Unable to delete stack component (type: {ctype.value}) with name '{name}': "
                "No stack component with this name could be found.",
                hint=f"See `stackctl {ctype.cli_name} list`.")
        problems = rules.component_delete_problems(ctype, name, tx.before)
        if problems:
            raise IntegrityError(problems[0].message, hint=problems[0].hint)
        tx.delete_component(ctype, name)
    log.info("Deleted %s: %s", ctype.value, name)
