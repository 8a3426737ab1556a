"""`frontline doctor`: what an installer runs after configuring. The database and its
schema, each enabled platform's configuration and, asked of the platform's own API,
its live credentials and permissions (`Platform.findings`), and whether the platforms'
webhooks can reach this server: a checklist in the installer's language, with the
console step that fixes each thing that does not hold."""

import asyncio

import httpx
from sqlalchemy import Engine

from bot.app import health
from bot.kit import platform
from bot.kit.config import Config
from bot.kit.doctor import Finding, fails, holds
from handlers.base import Message
from handlers.i18n import render_message

REACH_TIMEOUT = 5.0  # seconds for the public URL to answer


def examine(engine: Engine, config: Config,
            registry: dict[str, str] = platform.PLATFORMS) -> list[Finding]:
    database, migrations = health.checks(engine, dict)
    found = [holds("doctor.database") if database.ok else
             fails("doctor.database.failed", "doctor.fix.database", detail=database.detail)]
    if database.ok:
        found.append(holds("doctor.schema") if migrations.ok else
                     fails("doctor.schema.failed", "doctor.fix.schema"))
    webhooks = False
    for name in config.platforms.enabled():
        try:
            built = platform.build(name, engine, config, registry)
        except platform.ConfigError as error:
            found.append(fails("doctor.platform.config", "doctor.fix.platform.config",
                               platform=name, error=str(error)))
            continue
        found.append(holds("doctor.platform.configured", platform=name))
        found.extend(_asked(name, built))
        webhooks = webhooks or built.router() is not None
    if webhooks:
        found.append(_reachable(config.web.public_url))
    return found


def _asked(name: str, built: platform.Platform) -> list[Finding]:
    """The platform's own findings; a platform that cannot be asked is one finding."""
    try:
        return asyncio.run(built.findings())
    except Exception as error:  # any failure to reach it is what the installer must see
        return [fails("doctor.platform.unreachable", "doctor.fix.platform.unreachable",
                      platform=name, error=f"{error.__class__.__name__}: {error}")]


def _reachable(public_url: str) -> Finding:
    url = f"{public_url.rstrip('/')}/healthz"
    try:
        answered = httpx.get(url, timeout=REACH_TIMEOUT).status_code == 200
    except httpx.HTTPError:
        answered = False
    if answered and public_url.startswith("https://"):
        return holds("doctor.public_url", url=public_url)
    return fails("doctor.public_url.failed", "doctor.fix.public_url", url=public_url)


def report(found: list[Finding], locale: str) -> str:
    lines = []
    for finding in found:
        lines.append(f"{'✓' if finding.ok else '✗'} {render_message(finding.said, locale)}")
        if not finding.ok and finding.fix is not None:
            lines.append(f"    → {render_message(finding.fix, locale)}")
    failing = sum(not finding.ok for finding in found)
    summary = (Message("doctor.to_fix", {"count": failing}) if failing
               else Message("doctor.all_good"))
    return "\n".join([*lines, "", render_message(summary, locale)])
