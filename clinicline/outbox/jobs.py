import time

from clinicline.outbox import service

# One tick's time for sending: a mass reminder run goes out batch after batch, but the
# worker's other jobs (escalation steps above all) wait at most this long behind it.
SEND_BUDGET_S = 1.0


def send_due(budget_s: float = SEND_BUDGET_S) -> int:
    handled, deadline = 0, time.monotonic() + budget_s
    while True:
        sent = service.send_due()
        handled += sent
        if sent < service.CLAIM_BATCH or time.monotonic() >= deadline:
            return handled


def requeue_stuck() -> int:
    return service.requeue_stuck()
