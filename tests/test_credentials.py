from __future__ import annotations

import base64

import pytest

from tokenry.auth.credentials import PasswordCredential, TokenCredential, parse_authorization


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def test_basic_email_slash_token_is_a_token_credential() -> None:
    credential = parse_authorization("Basic " + b64("Jo@Example.com/token:tkry_abc"))
    assert credential == TokenCredential(secret="tkry_abc", email="jo@example.com")


def test_basic_email_password_is_a_password_credential() -> None:
    credential = parse_authorization("Basic " + b64("jo@example.com:pa:ss"))
    assert credential == PasswordCredential(email="jo@example.com", password="pa:ss")


def test_bearer_is_a_token_without_email() -> None:
    assert parse_authorization("Bearer tkry_abc") == TokenCredential("tkry_abc", None)


def test_credentials_never_show_their_secret_in_repr() -> None:
    assert "s3cret" not in repr(parse_authorization("Basic " + b64("a@b.co/token:s3cret")))
    assert "s3cret" not in repr(parse_authorization("Basic " + b64("a@b.co:s3cret")))


@pytest.mark.parametrize("header", [
    None, "", "Basic", "Basic ", "Basic !!!", "Basic " + b64("no-colon"), "Basic " + b64(":"),
    "Basic " + b64("/token:"), "Basic " + b64("/token:secret"), "Basic " + b64(b"\xff\xfe:x"),
    "Bearer", "Bearer ", "Bearer a\x00b", "Digest abc", "Basic " + b64("a@b.co/token:"),
])
def test_malformed_headers_are_no_credential(header: str | None) -> None:
    assert parse_authorization(header) is None
