"""Drawdown's language knowledge as data files, and the one way they are read.

YAML 1.1 reads a bare ``no``, ``on``, ``yes`` or ``off`` as a boolean; in word lists they
are words (Spanish and Portuguese "no", English "on"). Here only ``true`` and ``false`` are
booleans, as YAML 1.2 has it.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml

_BOOL = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    """The safe loader, with booleans spelt only true or false."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def loads(text: str) -> Any:
    """A data file's content: YAML, with ``no`` a word."""
    return yaml.load(text, Loader=_Loader)


def read(name: str) -> Any:
    """The content of the data file ``name`` in this package ("gazetteer.yaml")."""
    return loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
