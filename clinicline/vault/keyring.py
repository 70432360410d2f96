"""Keys: master keys (key-encryption keys) from the environment, per-practice data keys.

Ciphertext tokens look like ``e1.<data-key version>.<base64(nonce || ciphertext+tag)>``.
AES-256-GCM; the associated data binds each token to the place it was written for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.dispatch import receiver

from clinicline.env import master_key_bytes
from clinicline.vault.models import DataKey

TOKEN_PREFIX = "e1"  # noqa: S105 (a format marker, not a secret)
NONCE_BYTES = 12
# How long a process trusts its idea of a practice's active data-key version. A rotation
# started elsewhere is picked up within this time; rotation sweeps again before retiring.
ACTIVE_VERSION_TTL_S = 30.0


class VaultError(Exception):
    """A ciphertext cannot be opened: wrong key, wrong place, or tampered with."""


@dataclass(frozen=True)
class LocalKEK:
    """A master key held in this process (from the environment or a key file).

    The pluggable seam for a KMS: anything with ``kid``, ``wrap`` and ``unwrap``.
    """

    kid: str
    aead: AESGCM

    @classmethod
    def from_b64(cls, text: str) -> LocalKEK:
        raw = master_key_bytes(text)
        kid = hashlib.sha256(b"clinicline-kid:" + raw).hexdigest()[:16]
        return cls(kid=kid, aead=AESGCM(raw))

    def wrap(self, key: bytes, aad: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self.aead.encrypt(nonce, key, aad)).decode()

    def unwrap(self, wrapped: str, aad: bytes) -> bytes:
        blob = base64.b64decode(wrapped)
        try:
            return self.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise VaultError(f"data key does not open under master key {self.kid}") from None


def master_keys() -> list[LocalKEK]:
    return [LocalKEK.from_b64(k) for k in settings.MASTER_KEYS]


class Keyring:
    """Per-process cache of unwrapped data keys; creates a practice's keys on first use.

    Reading a page of patients opens thousands of tokens, so the hot path (``open``) finds
    its cipher with one dict lookup keyed by the token's own version text, and decodes
    base64 with ``binascii`` directly; the cryptography is unchanged.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keks: list[LocalKEK] | None = None
        # (practice id, purpose, version) -> the data key's cipher, or the index key's bytes.
        self._ciphers: dict[tuple[int, str, int], AESGCM] = {}
        self._index_keys: dict[tuple[int, str, int], bytes] = {}
        self._active: dict[int, tuple[int, float]] = {}
        # (practice id, version as written in tokens) -> cipher; filled by ``open``.
        self._openers: dict[tuple[int, str], AESGCM] = {}
        # Keys created by a transaction that has not committed yet. They are never cached:
        # if that transaction rolls back, the key is gone, and a cached copy would go on
        # sealing data that nothing could open after a restart.
        self._uncommitted: set[tuple[int, str, int]] = set()

    def clear(self) -> None:
        """Forget every cached key and active version (after a rotation in this process)."""
        with self._lock:
            self._keks = None
            self._ciphers.clear()
            self._index_keys.clear()
            self._active.clear()
            self._openers.clear()
            self._uncommitted.clear()

    # --- master keys -------------------------------------------------------------------
    @property
    def keks(self) -> list[LocalKEK]:
        if self._keks is None:
            self._keks = master_keys()
        return self._keks

    @property
    def current_kek(self) -> LocalKEK:
        return self.keks[0]

    def kek(self, kid: str) -> LocalKEK:
        for kek in self.keks:
            if kek.kid == kid:
                return kek
        raise VaultError(
            f"master key {kid} is not configured; set it in CLINICLINE_PREVIOUS_MASTER_KEYS "
            "until `clinicline rotate-keys --master` has re-wrapped every data key"
        )

    def unwrap(self, row: DataKey) -> bytes:
        return self.kek(row.master_kid).unwrap(row.wrapped, row.aad)

    # --- data keys ---------------------------------------------------------------------
    def create_key(self, practice_id: int, purpose: str, version: int) -> DataKey:
        row = DataKey(practice_id=practice_id, purpose=purpose, version=version)
        row.master_kid = self.current_kek.kid
        row.wrapped = self.current_kek.wrap(os.urandom(32), row.aad)
        row.save()
        slot = (practice_id, purpose, version)
        self._uncommitted.add(slot)
        transaction.on_commit(lambda: self._uncommitted.discard(slot))
        return row

    def _cacheable(self, practice_id: int, purpose: str, version: int) -> bool:
        return (practice_id, purpose, version) not in self._uncommitted

    def _load(self, practice_id: int, purpose: str, version: int) -> bytes:
        row = DataKey.objects.get(practice_id=practice_id, purpose=purpose, version=version)
        return self.unwrap(row)

    def _first_key(self, practice_id: int, purpose: str) -> DataKey:
        """The practice's key of this purpose, made on first use (safe against a race)."""
        row = DataKey.objects.filter(practice_id=practice_id, purpose=purpose).order_by(
            "-version"
        ).filter(state=DataKey.State.ACTIVE).first()
        if row is not None:
            return row
        try:
            with transaction.atomic():
                return self.create_key(practice_id, purpose, 1)
        except IntegrityError:
            return DataKey.objects.get(practice_id=practice_id, purpose=purpose, version=1)

    def aead(self, practice_id: int, version: int) -> AESGCM:
        slot = (practice_id, DataKey.Purpose.DATA, version)
        aead = self._ciphers.get(slot)
        if aead is None:
            aead = AESGCM(self._load(*slot))
            if self._cacheable(*slot):
                self._ciphers[slot] = aead
        return aead

    def active_version(self, practice_id: int) -> int:
        cached = self._active.get(practice_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        row = self._first_key(practice_id, DataKey.Purpose.DATA)
        if self._cacheable(practice_id, DataKey.Purpose.DATA, row.version):
            self._active[practice_id] = (row.version, time.monotonic() + ACTIVE_VERSION_TTL_S)
        return row.version

    def index_key(self, practice_id: int) -> bytes:
        slot = (practice_id, DataKey.Purpose.INDEX, 0)
        key = self._index_keys.get(slot)
        if key is None:
            row = self._first_key(practice_id, DataKey.Purpose.INDEX)
            key = self.unwrap(row)
            if self._cacheable(practice_id, DataKey.Purpose.INDEX, row.version):
                self._index_keys[slot] = key
        return key

    # --- sealing -----------------------------------------------------------------------
    def seal(self, practice_id: int, aad: bytes, plaintext: bytes, *,
             version: int | None = None) -> str:
        """Encrypt under the practice's active data key, or the given ``version`` (rotation
        re-encrypts under the new version without waiting for the active-version cache)."""
        if version is None:
            version = self.active_version(practice_id)
        nonce = os.urandom(NONCE_BYTES)
        body = self.aead(practice_id, version).encrypt(nonce, plaintext, aad)
        return f"{TOKEN_PREFIX}.{version}.{base64.b64encode(nonce + body).decode()}"

    def open(self, practice_id: int, aad: bytes, token: str) -> bytes:
        try:
            prefix, version, b64 = token.split(".", 2)
            if prefix != TOKEN_PREFIX:
                raise ValueError(prefix)
            aead = self._openers.get((practice_id, version))
            if aead is None:
                aead = self.aead(practice_id, int(version))
                if self._cacheable(practice_id, DataKey.Purpose.DATA, int(version)):
                    self._openers[(practice_id, version)] = aead
            # a2b_base64 is what b64decode calls, minus a Python-level wrapper per token.
            blob = binascii.a2b_base64(b64)
            return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (ValueError, binascii.Error):
            raise VaultError("not a clinicline ciphertext") from None
        except InvalidTag:
            raise VaultError(
                "ciphertext does not open here (moved, tampered or wrong key)") from None
        except DataKey.DoesNotExist:
            raise VaultError("ciphertext names a data key this practice does not have") from None

    @staticmethod
    def token_version(token: str) -> int:
        return int(token.split(".", 2)[1])


keyring = Keyring()


@receiver(setting_changed)
def _master_keys_changed(*, setting: str, **kwargs: Any) -> None:
    """Cached master keys and the data keys they unwrapped follow MASTER_KEYS when it
    changes at run time (override_settings does that), as Django's own caches do."""
    if setting == "MASTER_KEYS":
        keyring.clear()
