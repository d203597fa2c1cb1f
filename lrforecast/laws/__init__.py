"""The laws, one module each, behind the interface in base.py."""

from __future__ import annotations

from types import ModuleType

from ..errors import InputError
from . import momentum, multipower

LAWS: dict[str, ModuleType] = {momentum.name: momentum, multipower.name: multipower}


def get_form(name: str) -> ModuleType:
    """The law module registered under `name`."""
    if name not in LAWS:
        raise InputError(f"unknown law '{name}'; known: {', '.join(LAWS)}")
    return LAWS[name]
