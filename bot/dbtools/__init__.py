"""The database as a whole: a backup and its restore (backup.py), the move to another
store (move.py), and the checks both make before they say they are done (checks.py).

Used by `frontline db`; it reads the ledger's rules from points/, so it sits above it."""

from storage.errors import FrontlineError


class DbToolError(FrontlineError):
    """A refusal or a failed check: one line that says what and what to do."""
