"""Protocol files: YAML in, YAML out, every problem named by the line it is on.

A practice admin edits the protocol as a YAML file; when it is refused, the message must
point at the line to fix: ``safe_yaml.locate`` reads the file into plain data and a map
from each value's path (``("rules", 3, "when")``) to its line.
"""

from __future__ import annotations

from clinicline import safe_yaml
from clinicline.safe_yaml import Located, Path, dump

__all__ = ["MAX_CHARS", "Located", "Path", "ProtocolError", "dump", "load"]

MAX_CHARS = 256 * 1024  # a protocol is a page of rules, not a data set


class ProtocolError(safe_yaml.Refused):
    """A protocol that may not be used; ``problems`` lists each fault with its line."""


def load(text: str) -> Located:
    """Parse ``text`` with the upload loader (no tags, aliases or deep nesting; dates stay
    text); malformed YAML and duplicate keys are refused by line."""
    try:
        return safe_yaml.locate(text, max_chars=MAX_CHARS)
    except safe_yaml.Refused as exc:
        raise ProtocolError(exc.problems) from None
