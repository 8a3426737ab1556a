"""The one root of every error Frontline raises on purpose (a refusal, a bad
configuration, a forged request, a ledger rule): anything else is a bug."""


class FrontlineError(Exception):
    """Base of Frontline's own errors."""
