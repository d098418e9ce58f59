from __future__ import annotations

import pytest

from tokenry.domain import token_format
from tokenry.domain.token_format import TokenHasher, generate, looks_like_token, truncate


def test_generated_token_has_prefix_body_and_valid_checksum() -> None:
    new = generate("tkry")
    assert new.secret.startswith("tkry_")
    assert len(new.secret) == len("tkry_") + 32 + 6
    assert looks_like_token(new.secret)


def test_every_hidden_body_character_is_drawn_from_all_62_symbols() -> None:
    """About 160 bits stay hidden only if each of the 28 hidden characters really varies over
    the whole base62 alphabet: 3,000 tokens would show a weak or biased generator."""
    import math
    import string

    secrets_ = [generate("tkry").secret for _ in range(3000)]
    assert len(set(secrets_)) == len(secrets_)
    hidden = range(5 + token_format.SHOWN_BODY_CHARS, 5 + token_format.BODY_LENGTH)
    alphabet = set(string.ascii_letters + string.digits)
    for position in hidden:
        seen = {s[position] for s in secrets_}
        assert seen == alphabet, position  # P(a symbol missing by chance) < 1e-20
    assert len(hidden) * math.log2(len(alphabet)) >= 160


def test_checksum_catches_a_single_changed_character() -> None:
    secret = generate("tkry").secret
    flipped = secret[:10] + ("A" if secret[10] != "A" else "B") + secret[11:]
    assert not looks_like_token(flipped)


@pytest.mark.parametrize("text", ["", "tkry", "tkry_", "TKRY_" + "a" * 38, "tkry_" + "!" * 38,
                                  "password123", "tkry_" + "a" * 37])
def test_random_text_is_not_mistaken_for_a_token(text: str) -> None:
    assert not looks_like_token(text)


def test_truncated_form_reveals_only_four_body_characters() -> None:
    new = generate("tkry")
    assert new.display == truncate(new.secret)
    assert new.display == f"tkry_{new.secret[5:9]}********"
    assert new.secret not in repr(new)


def test_prefix_is_validated() -> None:
    with pytest.raises(ValueError):
        generate("Bad-Prefix")


def test_hash_is_keyed_by_the_server_secret() -> None:
    a, b = TokenHasher(b"a" * 32), TokenHasher(b"b" * 32)
    assert a.hash("tkry_x") != b.hash("tkry_x")
    assert a.hash("tkry_x") == a.hash("tkry_x")
    assert len(a.hash("tkry_x")) == 64
    assert "a" * 32 not in repr(a)


def test_short_server_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenHasher(b"short")
