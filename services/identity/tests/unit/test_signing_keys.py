"""Signing keys from a PEM bundle, their kids, and the retire command's interval parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from identity.adapters.signing_keys import KeyRing, generate, keys_from_bundle, utc_interval


async def test_a_bundle_publishes_every_key_and_signs_with_the_last() -> None:
    (first, first_pem), (second, second_pem) = generate(), generate()
    ring = KeyRing(None, bundle=keys_from_bundle(first_pem + "\n" + second_pem))
    assert [k["kid"] for k in (await ring.jwks())["keys"]] == [first.kid, second.kid]
    assert (await ring.signing_key()).kid == second.kid
    assert all("d" not in k for k in (await ring.jwks())["keys"]), "a private part was published"


def test_an_empty_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="no PEM"):
        keys_from_bundle("nothing here")


def test_intervals() -> None:
    assert utc_interval("20m") == timedelta(minutes=20)
    assert utc_interval("1d") == timedelta(days=1)
    with pytest.raises(ValueError, match="number followed by"):
        utc_interval("soon")
