"""The laws, one module each, found by the contract in base.py: a new law is one new file here."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from ..errors import InputError


def _discover() -> dict[str, ModuleType]:
    """Every module of this package that declares a law (`name`, `PARAMS`, `basis`), by name."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(module, a) for a in ("name", "PARAMS", "basis")):
            found[module.name] = module
    return found


LAWS: dict[str, ModuleType] = _discover()


def get_form(name: str) -> ModuleType:
    """The law module registered under `name`."""
    if name not in LAWS:
        raise InputError(f"unknown law '{name}'; known: {', '.join(LAWS)}")
    return LAWS[name]
