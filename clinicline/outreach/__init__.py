"""Patient outreach: approved templates with typed slots, the sending decision for every
outbound attempt (consent, quiet hours, caps, verified contact, the PHI guard), reminders
and their two-way replies. What leaves the practice reveals nothing, by construction."""
