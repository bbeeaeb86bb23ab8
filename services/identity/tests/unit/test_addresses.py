"""Rate-limit keys of client addresses: IPv6 by /64, IPv4 as is."""

from __future__ import annotations

import pytest

from identity.domain.addresses import address_key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:3::9]", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
    ],
)
def test_ipv6_addresses_count_by_their_64_and_ipv4_as_is(raw: str, key: str) -> None:
    assert address_key(raw) == key


def test_two_ipv6_addresses_of_one_64_share_a_key_and_the_next_64_does_not() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1")
    assert address_key("2001:db8::1") != address_key("2001:db8:0:1::1")
