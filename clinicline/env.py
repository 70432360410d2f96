"""Reading configuration from the environment, secure by default.

Every secret may come from ``NAME`` or from a file named by ``NAME_FILE`` (container
secrets). Nothing here imports Django, so settings can use it at import time.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """The configuration is unsafe or incomplete; the message says what to set."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0/true/false/yes/no, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def env_secret(name: str) -> str | None:
    """The secret from NAME, or from the file named by NAME_FILE; None when neither is set."""
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if value and path:
        raise ConfigError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path} cannot be read: {exc.strerror}") from None
    return value.strip() if value else None


def dev_secret(path: Path, make: Callable[[], str], what: str,
               note: str = "production reads it from the environment (see README)") -> str:
    """Read a development secret from the data dir, creating it (with a warning) if missing."""
    if path.exists():
        return _read_when_written(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    # Written to a private temporary file and linked into place: a second process starting
    # at the same moment either wins or reads the complete winner, never half a key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _read_when_written(path)
    finally:
        tmp.unlink()
    print(
        f"clinicline: WARNING generated a development {what} in {path}; {note}.",
        file=sys.stderr,
    )
    return value


def master_key_bytes(text: str) -> bytes:
    """A master key's 32 bytes, or a ConfigError that says how to make a good one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ConfigError("a master key must be base64 (make one: clinicline genkey)") from None
    if len(raw) != 32:
        raise ConfigError(f"a master key must be 32 bytes of base64, this one is {len(raw)}"
                          " (make one: clinicline genkey)")
    return raw


def _read_when_written(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise ConfigError(f"{path} is empty; delete it to have a new one made")
    return value


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_master_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
