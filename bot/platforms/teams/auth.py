"""Who may call /api/messages, and how the bot proves itself when it calls Teams.

In: every request carries a Bot Framework JWT. The SDK's own `JwtTokenValidator`
fetches its keys from fixed Microsoft addresses and checks neither the issuer nor
a required expiry, so this subclass reads the keys from the configured OpenID
metadata (its `jwks_uri`, fetched with the SDK's key client) and checks the
signature, issuer, audience (our app id), expiry and not-before.

Out: the SDK asks a `Connections` for an access token before it calls the Bot
Connector. MSAL (the SDK's own provider) accepts only https authorities and looks
its instance up on the internet, so the token is fetched here with the same OAuth
client-credentials grant from the configured login endpoint (with the client secret,
or a certificate's signed assertion), and cached.
"""

import asyncio
import base64
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    ClaimsIdentity,
    JwtTokenValidator,
)
from microsoft_agents.hosting.core.authorization import Connections

from bot.platforms.teams.settings import Settings
from storage.errors import FrontlineError

METADATA_TTL = 24 * 3600  # Microsoft rotates keys slowly; the metadata is re-read daily
TOKEN_MARGIN = 300  # seconds before expiry at which the bot's own token is renewed
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The scope of the Bot Connector's tokens.
# https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-authentication#step-1-request-an-access-token-from-the-microsoft-entra-id-account-login-service
BOT_SCOPE = "https://api.botframework.com/.default"


class TokenRefused(FrontlineError):
    """The request's token is missing, forged, stale or not for this bot."""


class BotTokenValidator(JwtTokenValidator):
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        super().__init__(AgentAuthConfiguration(client_id=settings.app_id,
                                                tenant_id=settings.tenant_id))
        self.settings, self.clock = settings, clock
        self._jwks_uri: str | None = None
        self._read_at = 0.0

    async def _jwks(self) -> str:
        if self._jwks_uri is None or self.clock() - self._read_at > METADATA_TTL:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(self.settings.openid_metadata_url)
                response.raise_for_status()
                self._jwks_uri, self._read_at = response.json()["jwks_uri"], self.clock()
        return self._jwks_uri

    async def _get_public_key_or_secret(self, token: str) -> jwt.PyJWK:
        header = jwt.get_unverified_header(token)
        if "kid" not in header:
            raise TokenRefused("the token names no signing key")
        return await self._jwk_client_manager.get_signing_key(await self._jwks(), header)

    async def validate_token(self, token: str, channel_id: str | None = None) -> ClaimsIdentity:
        """The token's claims, once it is proven; with `channel_id`, its signing key
        must also be endorsed for that channel (Bot Framework keys list the channels
        they sign for)."""
        try:
            key = await self._get_public_key_or_secret(token)
            endorsements = getattr(key, "_jwk_data", {}).get("endorsements")  # no public getter
            if channel_id is not None and endorsements is not None \
                    and channel_id not in endorsements:
                raise TokenRefused(f"the signing key is not endorsed for {channel_id}")
            claims = jwt.decode(
                token, key=key, algorithms=["RS256"], audience=self.settings.app_id,
                issuer=self.settings.issuers, leeway=self.settings.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud"]})
        except (jwt.PyJWTError, httpx.HTTPError, KeyError, ValueError) as error:
            raise TokenRefused(f"{type(error).__name__}: {error}") from None
        return ClaimsIdentity(claims, True, security_token=token)


class Certificate:
    """Proves the app with a certificate: a short-lived JWT (a client assertion) signed
    with its private key, naming the certificate by its SHA-1 thumbprint (x5t)."""

    def __init__(self, pem: bytes) -> None:
        self.key = serialization.load_pem_private_key(pem, password=None)
        thumbprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA1())
        self.x5t = base64.urlsafe_b64encode(thumbprint).decode().rstrip("=")

    def assertion(self, client_id: str, token_url: str) -> str:
        now = int(time.time())
        return jwt.encode({"aud": token_url, "iss": client_id, "sub": client_id,
                           "jti": str(uuid.uuid4()), "nbf": now, "exp": now + 600},
                          self.key, algorithm="RS256", headers={"x5t": self.x5t})


class ClientCredentials(AccessTokenProviderBase):
    """The bot's own access token (client credentials), cached until near expiry."""

    def __init__(self, settings: Settings, secret: str | Certificate,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.secret, self.clock = settings, secret, clock
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, renew at)
        self._lock = threading.Lock()

    def _proof(self, token_url: str) -> dict[str, str]:
        if isinstance(self.secret, Certificate):
            return {"client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": self.secret.assertion(self.settings.app_id, token_url)}
        return {"client_secret": self.secret}

    def _request(self, scope: str) -> httpx.Response:
        tenant = self.settings.tenant_id or "botframework.com"
        url = f"{self.settings.login_base.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        return httpx.post(url, data={
            "grant_type": "client_credentials", "client_id": self.settings.app_id,
            "scope": scope, **self._proof(url)}, timeout=10)

    def refused(self, scope: str = BOT_SCOPE) -> str | None:
        """A fresh token request (nothing cached), as `frontline doctor` makes it: None
        when a token is granted, else the OAuth error the issuer gave (`invalid_client`,
        `unauthorized_client`, ...).
        https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response"""
        response = self._request(scope)
        if response.is_success and "access_token" in response.json():
            return None
        try:
            return str(response.json().get("error") or response.status_code)
        except ValueError:
            return str(response.status_code)

    def _fetch(self, scope: str) -> str:
        with self._lock:
            cached = self._tokens.get(scope)
            if cached and self.clock() < cached[1]:
                return cached[0]
            response = self._request(scope)
            response.raise_for_status()
            data = response.json()
            self._tokens[scope] = (data["access_token"], self.clock()
                                   + int(data.get("expires_in", 3600)) - TOKEN_MARGIN)
            return data["access_token"]

    async def get_access_token(self, resource_url: str, scopes: list[str],
                               force_refresh: bool = False) -> str:
        scope = scopes[0] if scopes else f"{resource_url.rstrip('/')}/.default"
        if force_refresh:
            self._tokens.pop(scope, None)
        return await asyncio.to_thread(self._fetch, scope)


class OneConnection(Connections):
    """The bot has one identity: every outgoing call uses it."""

    def __init__(self, provider: ClientCredentials) -> None:
        self.provider = provider
        self.configuration = AgentAuthConfiguration(client_id=provider.settings.app_id,
                                                    tenant_id=provider.settings.tenant_id)

    def get_connection(self, connection_name: str) -> AccessTokenProviderBase:
        return self.provider

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self.provider

    def get_token_provider(self, claims_identity: ClaimsIdentity,
                           service_url: str) -> AccessTokenProviderBase:
        return self.provider

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self.configuration
