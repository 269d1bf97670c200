"""Which addresses a webhook may be sent to: the SSRF guard. Pure functions.

A subscription's URL is the subscriber's to choose, so without a guard it could
point Drawdown at its own network: the database, the cloud metadata service, an
admin port on localhost. Every address the target host resolves to must be a
public unicast address; loopback, private (RFC 1918, CGNAT), link-local,
unique-local, site-local, multicast, reserved, unspecified and documentation
ranges are refused, as are the cloud metadata addresses (169.254.169.254,
fd00:ec2::254, 100.100.100.200) and IPv6 forms embedding a refused IPv4 address
(IPv4-mapped, 6to4, Teredo, NAT64). ``DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS`` lists
networks allowed despite this (e.g. ``127.0.0.1/32`` for a receiver on the same
machine). The transport (transport.py) resolves, vets and connects to the vetted
address itself, so DNS cannot answer differently between check and connect.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _why_v4(address: ipaddress.IPv4Address) -> str | None:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not global"
    return None


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _why_v6(address: ipaddress.IPv6Address) -> str | None:
    inner = _embedded(address)
    if inner is not None:
        reason = _why_v4(inner)
        return f"embeds {inner}, {reason}" if reason else None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_site_local:
        return "site-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address in ipaddress.IPv6Network("fc00::/7"):
        return "unique-local"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not global"
    return None


def refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why a webhook may not go to ``address``, or None when it may."""
    if any(address.version == net.version and address in net for net in allowed):
        return None
    if address in METADATA:
        return "cloud metadata"
    return _why_v4(address) if isinstance(address, ipaddress.IPv4Address) else _why_v6(address)


def parse_address(text: str) -> Address:
    """An address from ``getaddrinfo`` (an IPv6 one may carry a ``%zone``)."""
    return ipaddress.ip_address(text.split("%", 1)[0])
