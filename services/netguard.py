"""Which addresses Drawdown may connect to: the one SSRF guard. Pure functions.

Every outbound request — feeds, pages, the article links they name, robots.txt,
each redirect hop, webhooks — goes to a URL someone else chose: a publisher, a
feed entry, a subscriber. Without a guard such a URL could point Drawdown at its
own network: the database, the cloud metadata service, an admin port on
localhost. Every address the target host resolves to must be a public unicast
address; loopback, private (RFC 1918, CGNAT), link-local, unique-local,
site-local, multicast, reserved, unspecified and documentation ranges are
refused, as are the cloud metadata addresses (169.254.169.254, fd00:ec2::254,
100.100.100.200) and IPv6 forms embedding a refused IPv4 address (IPv4-mapped,
IPv4-compatible, 6to4, Teredo, NAT64). A list of allowed networks opens
exactly what it names (``DRAWDOWN_FETCH_ALLOWED_NETWORKS`` for fetches,
``DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS`` for webhooks; ``127.0.0.1/32`` for servers on
the same machine). ``services.guarded_http`` resolves, vets and connects to the
vetted address itself, so DNS cannot answer differently between check and connect.
"""

from __future__ import annotations

import ipaddress
import socket
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
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(int(address))
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
        reason = "cloud metadata" if inner in METADATA else _why_v4(inner)
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
    """Why Drawdown may not connect to ``address``, or None when it may."""
    if any(address.version == net.version and address in net for net in allowed):
        return None
    if address in METADATA:
        return "cloud metadata"
    return _why_v4(address) if isinstance(address, ipaddress.IPv4Address) else _why_v6(address)


def parse_address(text: str) -> Address:
    """An address from ``getaddrinfo`` (an IPv6 one may carry a ``%zone``)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def host_refusal(host: str, allowed: Sequence[Network] = ()) -> str | None:
    """Why a URL's host is refused as written, before any lookup, or None.

    Judges what the text alone shows: an address literal (in any form
    ``getaddrinfo`` accepts, ``2130706433`` and ``0x7f.1`` included) and the names
    that always mean this machine (``localhost``, ``*.localhost``). Any other name
    is judged by what it resolves to, at each connection (``guarded_http``).
    """
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        reason = refusal(ipaddress.ip_address("127.0.0.1"), allowed)
        return f"{host} is this machine ({reason})" if reason else None
    address = _literal(name)
    if address is None:
        return None
    reason = refusal(address, allowed)
    return f"{host} is {address} ({reason})" if reason else None


def _literal(name: str) -> Address | None:
    try:
        return parse_address(name)
    except ValueError:
        pass
    try:  # the shorthand forms inet_aton accepts: 127.1, 0x7f000001, 2130706433, 0177.0.0.1
        packed = socket.inet_aton(name)
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)
