"""The web console's pages: server-rendered HTML in the reader's language, no
JavaScript, one module per concern. Every page reads inside one transaction,
narrowed to what its reader may see; every form that changes something carries the
session's CSRF token and runs as one Frontline command (the same rules and
notifications as in chat)."""

from bot.webui.pages import (
    board,
    cases,
    cockpit,
    ledger,
    redemptions,
    reports,
    season,
    signals,
    signin,
    team,
)

ROUTERS = (signin.public, signin.router, ledger.router, redemptions.router, reports.router,
           team.router, team.everyone, signals.router, cockpit.router, board.router,
           cases.router, season.router)
