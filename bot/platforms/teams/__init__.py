"""Microsoft Teams, on the Microsoft 365 Agents SDK: settings, token validation and
the bot's own credentials (auth.py), Adaptive Cards (cards.py), the adapter
(activities in at /api/messages), the stored conversation references
(references.py), the channels (the outbox out, proactively) and the platform that
wires them."""
