"""The flavor registry: built-in flavors and their config schemas, custom flavors.

Each built-in flavor is one JSON Schema file, ``schemas/flavors/<type>/<name>.json``,
whose ``x-stackctl-flavor`` entry says its integration and source. Validation,
defaults, CLI value coercion and the secret (``writeOnly``) fields all come
from that one schema, for every face of stackctl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from stackctl.errors import ConfigValidationError, NotFoundError, UsageError
from stackctl.model import ComponentType, CustomFlavor
from stackctl.resources import data_dir
from stackctl.schema_errors import SchemaProblem

SENSITIVE = "(sensitive)"  # how a secret value is shown, everywhere


@dataclass(frozen=True)
class Flavor:
    type: ComponentType
    name: str
    integration: str
    source: str
    schema: Mapping[str, Any]
    builtin: bool = True

    @property
    def properties(self) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.schema.get("properties", {})
        return props

    @property
    def required(self) -> list[str]:
        return list(self.schema.get("required", []))

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.properties.items() if "default" in v}

    @cached_property  # asked once per component of a plan: computed once per flavor
    def sensitive(self) -> frozenset[str]:
        return frozenset(k for k, v in self.properties.items() if v.get("writeOnly"))


@cache
def builtin_flavors() -> Mapping[tuple[ComponentType, str], Flavor]:
    found: dict[tuple[ComponentType, str], Flavor] = {}
    root = data_dir("schemas") / "flavors"
    for path in sorted(root.glob("*/*.json")):
        schema = json.loads(path.read_text())
        meta = schema.get("x-stackctl-flavor", {})
        ctype = ComponentType(path.parent.name)
        found[(ctype, path.stem)] = Flavor(
            type=ctype, name=path.stem, integration=meta.get("integration", "built-in"),
            source=meta.get("source", ""), schema=schema,
        )
    return found


def from_custom(custom: CustomFlavor) -> Flavor:
    return Flavor(type=custom.type, name=custom.name, integration="custom",
                  source=custom.source, schema=custom.config_schema, builtin=False)


def flavors_of(
    ctype: ComponentType, custom: Mapping[tuple[ComponentType, str], CustomFlavor] | None = None
) -> list[Flavor]:
    mine = {k: v for k, v in builtin_flavors().items() if k[0] is ctype}
    for key, flavor in (custom or {}).items():
        if key[0] is ctype:
            mine[key] = from_custom(flavor)
    return [mine[k] for k in sorted(mine)]


def get(
    ctype: ComponentType, name: str,
    custom: Mapping[tuple[ComponentType, str], CustomFlavor] | None = None,
) -> Flavor:
    if custom and (ctype, name) in custom:
        return from_custom(custom[(ctype, name)])
    try:
        return builtin_flavors()[(ctype, name)]
    except KeyError:
        names = ", ".join(f.name for f in flavors_of(ctype, custom))
        raise NotFoundError(
            f"There is no flavor '{name}' for the type {ctype.value}.",
            hint=f"Available flavors: {names}.",
        ) from None


def sensitive_fields(
    ctype: ComponentType, flavor: str,
    custom: Mapping[tuple[ComponentType, str], CustomFlavor] | None = None,
) -> frozenset[str]:
    """The secret (``writeOnly``) fields of a built-in or custom flavor.

    An unknown flavor has no schema, so nothing is known to hide.
    """
    try:
        return get(ctype, flavor, custom).sensitive
    except NotFoundError:
        return frozenset()


def hidden(value: Any) -> Any:
    """A secret field's value as it may be shown: ``(sensitive)`` unless it is empty."""
    return value if value in (None, "") else SENSITIVE


def has_secret_values(
    ctype: ComponentType, flavor: str, config: Mapping[str, Any],
    custom: Mapping[tuple[ComponentType, str], CustomFlavor] | None = None,
) -> bool:
    return any(hidden(config.get(k)) == SENSITIVE
               for k in sensitive_fields(ctype, flavor, custom))


def redact(flavor: Flavor | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as it may be shown: secret values replaced by ``(sensitive)``."""
    secret = flavor.sensitive if flavor else frozenset()
    return {k: (hidden(v) if k in secret else v) for k, v in config.items()}


def with_defaults(flavor: Flavor, config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in every optional field's default, as ZenML writes them to disk."""
    return {**flavor.defaults, **config}


def defaults_of(
    ctype: ComponentType, flavor: str,
    custom: Mapping[tuple[ComponentType, str], CustomFlavor] | None = None,
) -> Mapping[str, Any]:
    """The fields' defaults of a built-in or custom flavor; none for an unknown one."""
    try:
        return get(ctype, flavor, custom).defaults
    except NotFoundError:
        return {}


def _validator(flavor: Flavor) -> Any:
    """Built-in flavors' validators are made once (a plan checks thousands of configs)."""
    if flavor.builtin:
        return _builtin_validator(flavor.type, flavor.name)
    import jsonschema

    return jsonschema.Draft202012Validator(flavor.schema)


@cache
def _builtin_validator(ctype: ComponentType, name: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(builtin_flavors()[(ctype, name)].schema)


def config_errors(flavor: Flavor, config: Mapping[str, Any]) -> list[SchemaProblem]:
    """Schema problems in ``config`` as (json path, message), best first."""
    from stackctl import schema_check

    key = (f"flavor/{flavor.type.value}/{flavor.name}" if flavor.builtin
           else f"custom/{schema_check.key_of(flavor.schema)}")
    if schema_check.is_valid(key, flavor.schema, dict(config)):
        return []
    from stackctl.schema_errors import config_problems

    return config_problems(_validator(flavor).iter_errors(dict(config)), flavor.name,
                           flavor.properties, flavor.sensitive)


def check_config(flavor: Flavor, config: Mapping[str, Any], *, action: str = "registering") -> None:
    """Raise one ConfigValidationError listing every problem (CLI, Python API)."""
    problems = config_errors(flavor, config)
    if problems:
        lines = "\n".join(f"  {'.'.join(map(str, p.path)) or '(config)'}: {p.message}"
                          for p in problems)
        what = (f"a new {flavor.type.human}" if action == "registering"
                else flavor.type.with_article)
        raise ConfigValidationError(
            f"When you are {action} {what} with the flavor "
            f"`{flavor.name}`, make sure that you are utilizing the right attributes. "
            f"Current problems:\n{lines}",
            hint=f"See `stackctl {flavor.type.cli_name} flavor list` and the schema "
                 f"schemas/flavors/{flavor.type.value}/{flavor.name}.json.",
        )


def coerce_cli_value(flavor: Flavor, key: str, text: str) -> Any:
    """Turn ``--key=value`` text into the type the flavor's schema wants."""
    prop = flavor.properties.get(key)
    if prop is None:
        return text  # reported as an unknown field by check_config
    kinds = prop.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if "null" in kinds and text.lower() in ("null", "none", "~"):
        return None
    if "string" in kinds:
        return text
    if "boolean" in kinds:
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
    if "integer" in kinds:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            pass
    if "object" in kinds or "array" in kinds:
        try:
            return json.loads(text)
        except ValueError:
            raise UsageError(f"--{key} expects JSON ({'/'.join(kinds)}), got {text!r}.") from None
    return text  # the schema check then names the wrong type
