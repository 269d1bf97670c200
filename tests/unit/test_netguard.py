"""The one SSRF guard refuses internal addresses, and the transport connects only to vetted ones."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import httpcore
import pytest

from services.errors import BlockedAddressError
from services.guarded_http import GuardedBackend
from services.netguard import host_refusal, parse_address, refusal

LOCAL = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "not global"),  # carrier-grade NAT
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "private"),  # documentation
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1, private"),
        ("::ffff:127.0.0.1", "embeds 127.0.0.1, loopback"),
        ("2002:a9fe:a9fe::1", "embeds 169.254.169.254, cloud metadata"),  # 6to4
        ("64:ff9b::a00:1", "embeds 10.0.0.1, private"),  # NAT64
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_open_exactly_what_they_name() -> None:
    assert refusal(ipaddress.ip_address("127.0.0.1"), LOCAL) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), LOCAL) == "loopback"
    assert refusal(ipaddress.ip_address("::1"), LOCAL) == "loopback"
    metadata = [ipaddress.ip_network("169.254.169.254/32")]
    assert refusal(ipaddress.ip_address("169.254.169.254"), metadata) is None


def test_zone_ids_are_dropped() -> None:
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")


class _Recorder(httpcore.AsyncNetworkBackend):
    """Stands in for the network: records where it was asked to connect, connects nowhere."""

    def __init__(self) -> None:
        self.connects: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        raise httpcore.ConnectError("recorded")


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("10.0.0.1", "blocked address: 10.0.0.1 (private)"),
        ("169.254.169.254", "blocked address: 169.254.169.254 (cloud metadata)"),
        ("localhost", "blocked address: localhost resolves to"),
    ],
)
async def test_the_backend_refuses_before_connecting(host: str, message: str) -> None:
    network = _Recorder()
    backend = GuardedBackend([], network)
    with pytest.raises(BlockedAddressError) as refused:
        await backend.connect_tcp(host, 80, timeout=5)
    assert str(refused.value).startswith(message)
    assert network.connects == []


async def test_the_backend_connects_to_the_address_it_vetted_not_the_name() -> None:
    network = _Recorder()
    backend = GuardedBackend([*LOCAL, ipaddress.ip_network("::1/128")], network)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("localhost", 80, timeout=5)
    assert network.connects
    assert set(network.connects) <= {"127.0.0.1", "::1"}


async def test_unix_sockets_are_refused() -> None:
    with pytest.raises(BlockedAddressError):
        await GuardedBackend(LOCAL, _Recorder()).connect_unix_socket("/run/docker.sock")


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "127.0.0.1 is 127.0.0.1 (loopback)"),
        ("2130706433", "2130706433 is 127.0.0.1 (loopback)"),  # the decimal form
        ("0x7f.1", "0x7f.1 is 127.0.0.1 (loopback)"),
        ("[::ffff:169.254.169.254]", "cloud metadata"),
        ("169.254.169.254", "cloud metadata"),
        ("localhost", "localhost is this machine (loopback)"),
        ("db.localhost", "db.localhost is this machine (loopback)"),
        ("10.1.2.3", "10.1.2.3 is 10.1.2.3 (private)"),
    ],
)
def test_hosts_refused_as_written(host: str, reason: str) -> None:
    refused = host_refusal(host)
    assert refused is not None
    assert reason in refused


@pytest.mark.parametrize("host", ["example.org", "93.184.216.34", "cafe", "[2606:4700::1111]"])
def test_names_and_public_literals_are_left_to_the_connection(host: str) -> None:
    assert host_refusal(host) is None


def test_allowed_networks_open_hosts_too() -> None:
    assert host_refusal("127.0.0.1", LOCAL) is None
    assert host_refusal("localhost", LOCAL) is None
    assert host_refusal("127.0.0.2", LOCAL) is not None


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("example.org", "a host name: the fetch sandbox looks none up"),
        ("93.184.216.34", "outside the fetch sandbox's networks"),
        ("127.0.0.2", "outside the fetch sandbox's networks"),
    ],
)
async def test_the_sandbox_looks_up_nothing_and_leaves_nothing_but_its_networks(
    host: str, message: str
) -> None:
    network = _Recorder()
    with pytest.raises(BlockedAddressError, match=message):
        await GuardedBackend(LOCAL, network, sandbox=True).connect_tcp(host, 80, timeout=5)
    assert network.connects == []


async def test_the_sandbox_connects_inside_its_networks() -> None:
    network = _Recorder()
    with pytest.raises(httpcore.ConnectError):
        await GuardedBackend(LOCAL, network, sandbox=True).connect_tcp("127.0.0.1", 80)
    assert network.connects == ["127.0.0.1"]
