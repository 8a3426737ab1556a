"""The web console's reports, one module each: compensation spend, waiver friction,
recognition, a team's members with what waits for a decision, the recovery cases,
their figures and a team's twelve-month trends. Read-only; each takes the viewer's
scope (handlers.scope) and narrows every query to it. Beside them,
the payroll export HR runs from the command line (the whole organisation's month)."""
