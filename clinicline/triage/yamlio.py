"""Protocol files: YAML in, YAML out, every problem named by the line it is on.

A practice admin edits the protocol as a YAML file; when it is refused, the message must
point at the line to fix. PyYAML's ``compose`` keeps each node's position, so the file is
read twice over the same node tree: once into plain data, once into a map from each
value's path (``("rules", 3, "when")``) to its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from clinicline import safe_yaml
from clinicline.safe_yaml import Problem

Path = tuple[str | int, ...]
MAX_CHARS = 256 * 1024  # a protocol is a page of rules, not a data set


class ProtocolError(safe_yaml.Refused):
    """A protocol that may not be used; ``problems`` lists each fault with its line."""


@dataclass(frozen=True)
class Located:
    """Plain data from a YAML file, with the line (1-based) of every value by its path."""

    data: Any
    lines: Mapping[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def load(text: str) -> Located:
    """Parse ``text`` with the upload loader (no tags, aliases or deep nesting; dates stay
    text); malformed YAML and duplicate keys are refused by line."""
    try:
        root = safe_yaml.compose(text, max_chars=MAX_CHARS)
    except safe_yaml.Refused as exc:
        raise ProtocolError(exc.problems) from None
    if root is None:
        raise ProtocolError([Problem(None, "the file is empty")])
    reader = _Reader()
    data = reader.read(root, ())
    if reader.problems:
        raise ProtocolError(reader.problems)
    return Located(data, reader.lines)


def dump(document: Mapping[str, Any]) -> str:
    """YAML that ``load`` reads back to an equal document (keys keep their order)."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)


class _Reader:
    """Turns a node tree into plain data, recording where each value came from."""

    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []

    def read(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return safe_yaml.construct(node)  # "yes", "3", "~" as YAML 1.1 reads them
        except safe_yaml.Refused as exc:  # !!int abc
            self.problems.extend(exc.problems)
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(line, "a key must be a plain word"))
                continue
            key = str(key_node.value)
            if key in result:
                self.problems.append(Problem(line, f"duplicate key {key!r}"))
                continue
            self.lines[(*path, key)] = line  # the key's line: where a reader looks
            result[key] = self.read(value_node, (*path, key))
        return result
