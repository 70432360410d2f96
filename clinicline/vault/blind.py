"""Keyed blind indexes: find a row by an encrypted value without decrypting every row.

HMAC-SHA256 under the practice's index key, with the kind of value mixed in so equal
strings of different kinds (a phone number and an MRN) never share an index value.
"""

import hashlib
import hmac

from clinicline.vault.keyring import keyring


def blind_index(practice_id: int, kind: str, normalized: str) -> str:
    key = keyring.index_key(practice_id)
    return hmac.new(key, f"{kind}\x00{normalized}".encode(), hashlib.sha256).hexdigest()
