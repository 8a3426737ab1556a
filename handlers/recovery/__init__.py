"""The recovery loop: win the unhappy customer back. A response the organisation's rules
call unhappy opens a case by itself (a reference of its own, K3), which reaches the
person the customer named, or the team's supervisor, at once with a call-back deadline;
the holder records the call-back, gives goodwill under the customer's reference, hands
the case on or closes it with its outcome; the reminders chase its deadline.

- `masking`: phone numbers and e-mail addresses out of the customer's words;
- `cases`: who may act on a case, what its messages say, the case with its history;
- `opening`: a case opened from a kept response (handlers/feedback.py calls it);
- `commands`: the `recover` verb and its steps;
- `chasing`: the reminder before the deadline and the escalations after it;
- `voice`: a good score told to the person named, and the customer's later good word
  credited to their cases (recovery yield);
- `goodwill`: the customer's later promoter score or praise marks the goodwill they
  were given recovered (the compensation page's recovery yield);
- `weekly`: a team's cases over a week, for its weekly digest."""

# registry.load imports the package: this declares the `recover` verb and its use cases.
from handlers.recovery import commands  # noqa: F401
