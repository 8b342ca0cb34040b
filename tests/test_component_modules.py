"""Each component type's classes live in one module at ZenML's import path."""

from __future__ import annotations

import importlib

import pytest

from stackctl.model import ComponentType
from stackctl.stack_components import base_class


@pytest.mark.parametrize("ctype", list(ComponentType))
def test_every_type_has_one_module_with_its_base_class(ctype: ComponentType) -> None:
    module = importlib.import_module(f"stackctl.{ctype.plural}")
    assert not hasattr(module, "__path__")  # a module, not a package
    base = base_class(ctype)
    assert base.TYPE is ctype
    assert base.__module__ == module.__name__
