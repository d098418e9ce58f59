"""The OAuth 2.0 protocol, Authlib's, bound to tokenry's use cases.

Authlib's framework-agnostic :class:`AuthorizationServer` checks the parameters, authenticates
clients, runs PKCE and answers RFC 6749 errors; the grants and endpoints below only say where
things are kept (``tokenry.operations.oauth_grants``). One server is built per request, for
the account the request's host names, so no client of one account is ever seen from another.

Policy kept here, beside the protocol:

* public clients authenticate with ``none`` and must use PKCE with S256; confidential ones
  with their secret (``client_secret_basic`` or ``client_secret_post``);
* ``client_credentials`` is for confidential clients that name a user to act as;
* granted scopes are what was asked for, when the client's allowed scopes and the account's
  ceiling both allow it; more is ``invalid_scope``;
* refresh tokens rotate; a spent one presented again revokes its whole family.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import errors as rfc6749_errors
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.timefmt import iso
from tokenry.operations import oauth_grants as grants
from tokenry.operations.issue_oauth_token import MintedToken

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


class FormRequest(OAuth2Request):
    """An Authlib request made from what the route read: query and form parameters."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str],
                 query: Mapping[str, str], form: Mapping[str, str]) -> None:
        super().__init__(method, uri, headers=headers)  # case-insensitive, as HTTP is
        self._query = dict(query)
        self._form = dict(form)
        self.payload = BasicOAuth2Payload({**self._query, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass(frozen=True)
class Client:
    """Authlib's view of a client (its ``ClientMixin`` methods)."""

    record: grants.ClientRecord
    core: Core

    @property
    def public(self) -> bool:
        return self.record.kind == oauth.PUBLIC

    def get_client_id(self) -> str:
        return self.record.identifier

    def get_default_redirect_uri(self) -> str | None:
        uris = self.record.redirect_uris
        return uris[0] if len(uris) == 1 else None  # several: the request must name one

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(self.granted(scope))

    def granted(self, scope: str | None) -> list[str]:
        try:
            return oauth.granted_scopes(scope, self.record.allowed_scopes, self.record.ceiling)
        except oauth.ScopeRefused as refused:
            raise rfc6749_errors.InvalidScopeError(description=refused.description) from None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris  # exact match, nothing looser

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.record.secret_hash
        matches = stored is not None and any(
            hmac.compare_digest(stored, candidate)
            for candidate in self.core.hasher.candidates(client_secret))
        self.core.metrics.signed_in("oauth_client", "ok" if matches else "refused")
        return matches

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.public else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials":
            return not self.public and self.record.user_id is not None
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Code:
    record: grants.CodeRecord

    def get_redirect_uri(self) -> str | None:
        return self.record.redirect_uri or None

    def get_scope(self) -> str:
        return " ".join(self.record.scopes)

    @property
    def code_challenge(self) -> str | None:
        return self.record.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.record.code_challenge_method


@dataclass(frozen=True)
class Refresh:
    record: grants.RefreshRecord

    def check_client(self, client: Client) -> bool:
        return self.record.client_id == client.record.id

    def get_scope(self) -> str:
        return " ".join(self.record.scopes)


@dataclass(frozen=True)
class Presented:
    """A token a client presents to revocation or introspection."""

    facts: grants.TokenFacts

    def check_client(self, client: Client) -> bool:
        return self.facts.client_id == client.record.id

    def is_expired(self) -> bool:
        return not self.facts.active

    def is_revoked(self) -> bool:
        return not self.facts.active

    def get_scope(self) -> str:
        return " ".join(self.facts.scopes)


@dataclass(frozen=True)
class GrantUser:
    id: int
    family: str | None = None  # from an authorization code: its tokens' family


def token_response(minted: MintedToken) -> dict[str, Any]:
    """Zendesk's token JSON: RFC 6749's fields plus ``refresh_token_expires_in``."""
    body: dict[str, Any] = {"access_token": minted.access_token, "token_type": "bearer",
                            "scope": " ".join(minted.token.scopes),
                            "expires_in": minted.expires_in}
    if minted.refresh_token is not None:
        body["refresh_token"] = minted.refresh_token
        body["refresh_token_expires_in"] = minted.refresh_expires_in
    return body


class StrictCodeChallenge(CodeChallenge):
    """RFC 7636, with S256 required of public clients (``plain`` and no PKCE refused)."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        client: Client = grant.request.client
        data = grant.request.payload.data
        if client.public and (not data.get("code_challenge")
                              or data.get("code_challenge_method") != "S256"):
            raise rfc6749_errors.InvalidRequestError(
                "A public client must use PKCE: code_challenge with code_challenge_method=S256",
                redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [*SECRET_METHODS, "none"]
    server: TokenryServer

    def generate_authorization_code(self) -> str:
        return grants.new_code(self.server.core)

    def save_authorization_code(self, code: str, request: FormRequest) -> None:
        data = request.payload.data
        client: Client = request.client
        grants.save_code(self.server.core, client.record, request.user.id, code,
                         redirect_uri=data.get("redirect_uri") or "",
                         scopes=client.granted(request.scope),
                         code_challenge=data.get("code_challenge"),
                         code_challenge_method=data.get("code_challenge_method"))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = grants.find_code(self.server.core, client.record, code)
        return Code(found) if found else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        pass  # spent in authenticate_user, before any token exists

    def authenticate_user(self, authorization_code: Code) -> GrantUser | None:
        record = authorization_code.record
        core = self.server.core
        client: Client = self.request.client
        if not grants.spend_code(core, record.id):
            # another request redeemed it first: single use, and its tokens go too
            grants.code_replayed(core, client.record, record.family)
            return None
        if not grants.user_may_act(core, self.server.account_id, record.user_id):
            return None
        return GrantUser(record.user_id, record.family)


class RotatingRefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [*SECRET_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: TokenryServer

    def authenticate_refresh_token(self, refresh_token: str) -> Refresh | None:
        client: Client = self.request.client
        found = grants.find_refresh(self.server.core, client.record, refresh_token)
        return Refresh(found) if found else None

    def authenticate_user(self, refresh_token: Refresh) -> GrantUser | None:
        user_id = refresh_token.record.user_id
        return GrantUser(user_id) if grants.user_may_act(
            self.server.core, self.server.account_id, user_id) else None

    def issue_token(self, user: GrantUser, refresh_token: Refresh) -> dict[str, Any]:
        client: Client = self.request.client
        held = refresh_token.record.scopes
        try:
            scopes = oauth.narrower(self.request.payload.scope, held)
        except oauth.ScopeRefused as refused:
            raise rfc6749_errors.InvalidScopeError(description=refused.description) from None
        client.granted(" ".join(scopes))  # the client's and account's limits still hold
        try:
            minted = grants.rotate(self.server.core, client.record, refresh_token.record,
                                   scopes)
        except grants.RefreshSpent:
            raise rfc6749_errors.InvalidGrantError("The refresh token was already used.") \
                from None
        except grants.ClientUnusable:
            raise rfc6749_errors.InvalidClientError(
                description="This client was switched off.") from None
        return token_response(minted)

    def revoke_old_credential(self, refresh_token: Refresh) -> None:
        pass  # rotate() spent it in the same transaction that issued its successor


class CredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [*SECRET_METHODS, "none"]
    server: TokenryServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Presented | None:
        facts = grants.token_facts(self.server.core, self.server.account_id, token_string)
        return Presented(facts) if facts else None

    def authenticate_token(self, request: FormRequest, client: Client) -> Presented | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # RFC 7009 2.2: another client's or an unknown token is answered 200 all the same
        return token if token and token.check_client(client) else None

    def revoke_token(self, token: Presented, request: FormRequest) -> None:
        client: Client = request.client
        grants.revoke_presented(self.server.core, client.record, token.facts.id)


class Introspection(IntrospectionEndpoint):
    """For resource servers: any confidential client of the account may introspect."""

    CLIENT_AUTH_METHODS = SECRET_METHODS
    server: TokenryServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Presented | None:
        facts = grants.token_facts(self.server.core, self.server.account_id, token_string)
        return Presented(facts) if facts else None

    def check_permission(self, token: Presented, client: Client,
                         request: FormRequest) -> bool:
        return not client.public

    def introspect_token(self, token: Presented) -> dict[str, Any]:
        facts = token.facts
        return {"active": True, "scope": " ".join(facts.scopes),
                "client_id": facts.client_identifier, "username": facts.username,
                "sub": str(facts.user_id),
                "token_type": "refresh_token" if facts.is_refresh else "bearer",
                "exp": int(facts.expires_at.timestamp()) if facts.expires_at else None,
                "iat": int(facts.created_at.timestamp()), "iss": self.server.issuer,
                "expires_at": iso(facts.expires_at)}


class TokenryServer(AuthorizationServer):
    def __init__(self, core: Core, account_id: int, issuer: str) -> None:
        super().__init__()
        self.core = core
        self.account_id = account_id
        self.issuer = issuer
        self.register_grant(CodeGrant, [StrictCodeChallenge(required=True)])
        self.register_grant(RotatingRefreshGrant)
        self.register_grant(CredentialsGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        self.register_token_generator("default", self._mint)

    def query_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or not oauth.IDENTIFIER.match(client_id):
            return None
        record = grants.find_grant_client(self.core, self.account_id, client_id)
        return Client(record, self.core) if record else None

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        pass  # the generator stored it (hashed) when it made it

    def validate_requested_scope(self, scope: str | None) -> None:
        pass  # the client's get_allowed_scope and _mint apply tokenry's scope policy

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def _mint(self, grant_type: str, client: Client, user: GrantUser | None = None,
              scope: str | None = None, expires_in: int | None = None,
              include_refresh_token: bool = True) -> dict[str, Any]:
        if user is None:  # client_credentials: the client acts as the user it names
            if client.record.user_id is None or not grants.user_may_act(
                    self.core, self.account_id, client.record.user_id):
                raise rfc6749_errors.UnauthorizedClientError(
                    "This client names no usable user to act as.")
            user = GrantUser(client.record.user_id)
        try:
            minted = grants.issue_for_grant(
                self.core, client.record, user_id=user.id, scopes=client.granted(scope),
                grant_type=grant_type, family=user.family,
                with_refresh=include_refresh_token and grant_type != "client_credentials")
        except grants.ClientUnusable:
            raise rfc6749_errors.InvalidClientError(
                description="This client was switched off.") from None
        return token_response(minted)
