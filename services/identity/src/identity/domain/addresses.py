"""The client address that rate limits count by: an IPv4 address, or the /64 an IPv6 address belongs to."""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


def address_key(raw: str) -> str:
    """One key per client: an ISP hands each customer (at least) a /64, so counting whole IPv6 addresses would give
    one client 2^64 buckets. IPv4-mapped IPv6 counts as its IPv4 address; anything unparsable is kept as given."""
    try:
        address = ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return raw[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)
