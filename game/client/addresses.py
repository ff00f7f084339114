"""The addresses other machines can reach this one on, for the join line a room types.

A hostname lookup is not enough: Debian and Ubuntu map the hostname to 127.0.1.1 in
/etc/hosts. So, first, the address a routing lookup picks for the way out (a UDP socket
"connected" to a public address: nothing is sent), then every address of the machine's
interfaces (ifaddr, which reads them on Linux, macOS and Windows alike).
"""

from __future__ import annotations

import ipaddress
import socket

import ifaddr


def _outgoing(target: str = "192.0.2.1") -> str:
    # a documentation address: connecting a UDP socket only asks the routing table
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((target, 9))
            return probe.getsockname()[0]
        except OSError:
            return ""


def join_addresses() -> list[str]:
    """Every IPv4 address of this machine that is not loopback (nor link-local), the one the
    route out uses first; empty when the machine has only loopback."""
    found: list[str] = []
    first = _outgoing()
    if first:
        found.append(first)
    try:
        adapters = ifaddr.get_adapters()
    except OSError:
        adapters = []
    for adapter in adapters:
        for ip in adapter.ips:
            if isinstance(ip.ip, str):  # IPv4; IPv6 comes as a tuple
                found.append(ip.ip)
    out = []
    for address in dict.fromkeys(found):
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            continue
        if not (parsed.is_loopback or parsed.is_link_local or parsed.is_unspecified):
            out.append(address)
    return out


async def reachable(hosts: list[str], port: int, timeout: float = 0.5) -> list[str]:
    """The hosts on which something accepts a connection on ``port``, in the given order: the
    addresses of this machine that a server here actually listens on (one bound to 127.0.0.1
    answers on none of the network addresses)."""
    import asyncio

    async def answers(host: str) -> bool:
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    found = await asyncio.gather(*(answers(h) for h in hosts))
    return [h for h, ok in zip(hosts, found, strict=True) if ok]
