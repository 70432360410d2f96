"""On call: how to reach each member, who is on call when, and the pages that escalate an
urgent message until someone acknowledges it (or the practice's fallback is alarmed)."""
