"""Where a drill's secrets must never be: anything sent over a non-secure channel (texts,
calls, voicemails, email: the outbox's rows, what the simulator's phones received and
heard, what the webhooks answered the carrier), and the database's columns as stored.

The database is read whole, as a copy of its file would be: every column of every table.
What was already there before the drill is a baseline (the practice's own data is not the
drill's doing), so a secret counts only where the drill added plain text holding it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.db import connection

from clinicline.drills.world import World
from clinicline.gateways.models import InboundWebhook
from clinicline.outbox.models import Channel
from clinicline.simulator.models import SimulatorEvent

SHORT = 5  # a needle this short ("Bell", "1971") turns up by chance inside base64 ciphertext
NON_SECURE = (Channel.SMS, Channel.VOICE, Channel.EMAIL)
CHUNK = 500


def at_rest(secret: str, stored: str) -> bool:
    """Whether ``secret`` is in ``stored`` as plain text: a short one only standing on its
    own (beside a space, a quote, a comma), never as a run inside ciphertext."""
    if len(secret) > SHORT:
        return secret in stored
    return re.search(rf"(?<![A-Za-z0-9+/_-]){re.escape(secret)}(?![A-Za-z0-9+/=_-])",
                     stored) is not None


def sent_texts(world: World) -> list[str]:
    """Everything the drill sent out of our systems, and everything the phones got."""
    bodies = [str(d.body) for d in world.deliveries().filter(channel__in=NON_SECURE)]
    bodies += [str(e.body) for e in SimulatorEvent.objects.filter(
        practice=world.practice, created_at__gte=world.started)]
    bodies += [w.response for w in InboundWebhook.objects.filter(
        practice=world.practice, received_at__gte=world.started)]
    return bodies


def in_sent(world: World, secrets: Iterable[str]) -> list[str]:
    texts = sent_texts(world)
    return [s for s in secrets if any(s in text for text in texts)]


def stored(secrets: Iterable[str]) -> Counter[tuple[str, str]]:
    """(secret, table) -> how many rows hold the secret in plain text, over every table."""
    wanted, found = list(secrets), Counter[tuple[str, str]]()
    if not wanted:
        return found
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a table name)
            while rows := cursor.fetchmany(CHUNK):
                for row in rows:
                    cells = "\x00".join(str(v) for v in row if v is not None)
                    found.update((s, table) for s in wanted if at_rest(s, cells))
    return found


def added(before: Counter[tuple[str, str]], secrets: Iterable[str]) -> list[str]:
    """Secrets the drill added in plain text: ``secret in table`` for each."""
    after = stored(secrets)
    return sorted(f"{s} in {table}" for (s, table), n in after.items()
                  if n > before.get((s, table), 0))
