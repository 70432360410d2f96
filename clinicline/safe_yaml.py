"""The one YAML reader for files people upload (triage protocols, call types).

PyYAML's ``SafeLoader`` builds no Python objects, but an upload can still hurt it: a tag
it has no constructor for, a date that is not on the calendar (``2001-02-30``) or a few
thousand nested brackets (the composer recurses) each end in an exception that is not a
``YAMLError``, so a page shows a 500 instead of the line to fix. Here every file is first
read as a stream of events, which the parser produces without recursing, and refused by
line for:

- anchors and aliases (a few lines of them can expand to gigabytes);
- any explicit tag outside YAML's core schema (``!custom``, ``!!python/name:…``,
  ``!!timestamp``, ``!!binary``);
- nesting deeper than ``MAX_DEPTH``, and text longer than the caller's limit.

Only then is the text composed. Dates stay the strings they are written as (the implicit
timestamp resolver is dropped, as is the ``<<`` merge key), and a core tag on a value it
cannot hold (``!!int abc``) is refused by line, as are duplicate keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_DEPTH = 32  # a protocol nests five deep; the composer recurses once per level
CORE = "tag:yaml.org,2002:"
CORE_TAGS = frozenset(CORE + name for name in ("null", "bool", "int", "float", "str", "seq",
                                               "map"))


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class Refused(ValueError):
    """A file that may not be read; ``problems`` names each fault with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.message))
        super().__init__("; ".join(map(str, self.problems)))


def _core_only(table: dict[Any, Any]) -> dict[Any, Any]:
    return {tag: value for tag, value in table.items() if tag is None or tag in CORE_TAGS}


class UploadLoader(yaml.SafeLoader):
    """SafeLoader with the core schema only: no timestamps, no merge keys, no other tags."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in CORE_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    yaml_constructors = _core_only(yaml.SafeLoader.yaml_constructors)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError) as exc:  # a core tag on what it cannot hold: !!int x
            raise yaml.constructor.ConstructorError(
                None, None, f"not a valid {tag_name(node.tag)}: {str(exc)[:60]}",
                node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict) or key in seen:
                problem = "a key must be a plain word" if isinstance(key, list | dict) \
                    else f"duplicate key {str(key)[:40]!r}"
                raise yaml.constructor.ConstructorError(None, None, problem,
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def tag_name(tag: str) -> str:
    """A tag as it is written in the file: ``!!python/name:os.system``, ``!custom``."""
    return "!!" + tag.removeprefix(CORE) if tag.startswith(CORE) else tag


def _line(mark: Any) -> int | None:  # a Mark of the pure or the C parser
    return mark.line + 1 if mark is not None else None


def _event_problems(text: str) -> list[Problem]:
    """What the stream of events refuses: aliases, anchors, foreign tags, deep nesting."""
    problems, depth = [], 0
    for event in yaml.parse(text, Loader=UploadLoader):
        line = _line(event.start_mark)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            problems.append(Problem(line, "anchors and aliases (&, *) are not allowed"))
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in CORE_TAGS:
            problems.append(Problem(line, f"the tag {tag_name(tag)[:60]} is not allowed; "
                                          "write plain text, numbers, lists and mappings"))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return [*problems, Problem(line, f"nested more than {MAX_DEPTH} deep")]
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return problems


def _refusal(exc: yaml.YAMLError) -> Refused:
    if isinstance(exc, yaml.MarkedYAMLError):
        where = _line(exc.problem_mark or exc.context_mark)
        return Refused([Problem(where, f"not valid YAML: {exc.problem or exc}")])
    return Refused([Problem(None, f"not valid YAML: {exc}")])


def compose(text: str, *, max_chars: int) -> yaml.Node | None:
    """The node tree of one document (None if the file holds none), each node knowing its
    line; raises ``Refused``."""
    if len(text) > max_chars:
        raise Refused([Problem(None, f"the file is over {max_chars // 1024} KB")])
    try:
        problems = _event_problems(text)
        if problems:
            raise Refused(problems)
        return yaml.compose(text, Loader=UploadLoader)
    except yaml.YAMLError as exc:
        raise _refusal(exc) from None


def construct(node: yaml.Node) -> Any:
    """Plain data (dicts, lists, str, int, float, bool, None) from a composed node."""
    try:
        return UploadLoader("").construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise _refusal(exc) from None


def load(text: str, *, max_chars: int) -> Any:
    """``text`` as plain data; raises ``Refused`` with the line of each problem."""
    root = compose(text, max_chars=max_chars)
    return None if root is None else construct(root)


# --- plain data that knows its lines -------------------------------------------------------

Path = tuple[str | int, ...]


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


def locate(text: str, *, max_chars: int) -> Located:
    """``text`` as plain data with the line of every value (``load``'s checks first): so a
    document's own checks can name the line to fix; raises ``Refused``."""
    root = compose(text, max_chars=max_chars)
    if root is None:
        raise Refused([Problem(None, "the file is empty")])
    reader = _Reader()
    data = reader.read(root, ())
    if reader.problems:
        raise Refused(reader.problems)
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
            return construct(node)  # "yes", "3", "~" as YAML 1.1 reads them
        except Refused as exc:  # !!int abc
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
