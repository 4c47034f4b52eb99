"""Where a webhook may go: not to this installation's own network (SSRF). A subscriber's host
must resolve to public addresses only - never loopback, link-local (cloud metadata at
169.254.169.254 among them), private (RFC 1918, IPv6 unique-local), shared (100.64/10),
multicast, reserved or unspecified ones - unless `NOTIFICATION_WEBHOOK_ALLOW_PRIVATE=true`
(development and tests). Checked when a subscription is registered and again before each send.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata"})


class RefusedHost(Exception):
    """The webhook URL's host is not one a delivery may go to; the message says why."""


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_public(url: str) -> None:
    """Raise RefusedHost unless every address the URL's host resolves to is public."""
    host = urlsplit(url).hostname
    if not host:
        raise RefusedHost("the URL has no host")
    if host.lower().rstrip(".") in METADATA_HOSTS:
        raise RefusedHost("a cloud metadata host")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedHost("the host does not resolve") from exc
    addresses = {info[4][0] for info in found}
    if not addresses or any(_private(str(a)) for a in addresses):
        raise RefusedHost("the host resolves to a loopback, link-local, private or reserved address")


def masked(url: str) -> str:
    """The URL as an answer may show it: no user or password, no query (they may hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = ("***@" if parts.username or parts.password else "") + host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))
