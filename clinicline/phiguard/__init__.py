"""The PHI guard: what a text headed to a non-secure channel must not carry (the
recipient's identifiers, HIPAA's identifier kinds, person names, clinical content).
Offline and model-free; it imports no app, so the outbox's last screen and outreach's
sending decision share one guard."""
