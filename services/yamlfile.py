"""Reading YAML configuration files node by node, so every error names ``file:line``.

Used for the sources file (``ingest.sources``) and the subscriptions in it
(``services.webhooks.subscriptions``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from services.errors import ConfigError


class NodeReader:
    """Walks a composed YAML document, naming ``origin:line`` in every error."""

    def __init__(self, origin: str, loader: yaml.SafeLoader) -> None:
        self.origin = origin
        self.loader = loader

    def error(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}:{node.start_mark.line + 1}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        pairs = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.error(key_node, f"{what}: keys must be names, not {key!r}")
            if key in seen:
                raise self.error(key_node, f"{what}: {key!r} is given twice")
            seen.add(key)
            pairs.append((key, key_node, value_node))
        return pairs

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "expected a single value")
        return self.loader.construct_object(node, deep=True)

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{key!r} must be non-empty text")
        return value.strip()

    def http_url(self, node: yaml.Node) -> str:
        url = self.text(node, "url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(node, f"url {url!r} is not an http(s) URL with a host")
        return url

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, f"{key!r} must be true or false, not {value!r}")
        return value

    def text_list(self, node: yaml.Node, key: str) -> list[str]:
        """A list of non-empty texts (``[a, b]`` or a block list); one text alone is a list."""
        if isinstance(node, yaml.ScalarNode):
            return [self.text(node, key)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{key!r} must be a list")
        return [self.text(item, key) for item in node.value]


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
