"""Where a tenant-chosen URL may send our requests: public addresses only.

A department's webhook URL is chosen by a town admin, and the POST to it comes from inside
our cloud account, where 169.254.169.254 hands out credentials and loopback reaches the
Lambda runtime. So a URL is accepted only when its host and *every* address that host
resolves to are public. The check is pure: the caller resolves the host (at save, and
again at every delivery, so DNS that changes after the save — rebinding — is caught) and
passes the addresses in; the delivery then connects to those checked addresses, never to
a second lookup of the name.

The standard library's ``ipaddress`` decides what is public (``is_global``); on top of
it, addresses that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are
judged by the address they embed, known cloud metadata addresses are named, and numeric
host spellings that the resolver would read as an address (``2130706433``, ``0177.0.0.1``,
``0x7f.0.0.1``, ``127.1``) are recognised for what they are.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(InvalidInput):
    """The URL, or an address its host resolves to, is not one we send requests to."""


class UnresolvedHost(InvalidInput):
    """The URL's host resolves to no address (now): nothing can be checked or sent."""


@dataclass(frozen=True)
class Destination:
    """A checked webhook target. ``host`` (ASCII, lower case) is what the Host header and
    the TLS certificate check use; ``addresses`` are the only places to connect to."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


# Instance metadata and host services of the clouds, named so that a refusal says what it
# is. Most are link-local or private anyway; Azure's wire server is in a public range.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle instance metadata
    "169.254.169.253",  # AWS VPC DNS
    "169.254.170.2",  # AWS ECS task credentials
    "169.254.170.23",  # AWS EKS pod identity
    "fd00:ec2::254",  # AWS instance metadata over IPv6
    "fd00:ec2::253",  # AWS VPC DNS over IPv6
    "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "168.63.129.16",  # Azure wire server
    "192.0.0.192",  # Oracle Cloud metadata (legacy)
))

# Names that mean "this machine" or "inside some private network" whatever DNS says.
LOOPBACK_NAMES = ("localhost",)
PRIVATE_NAME_SUFFIXES = (".internal", ".local", ".localdomain", ".home.arpa", ".arpa",
                         ".intranet", ".corp", ".lan")

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: embeds IPv4
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

# A host whose last label is a number is an IPv4 address in some spelling (the WHATWG URL
# rule); inet_aton, which getaddrinfo uses, reads each part as decimal, 0-octal or 0x-hex.
_NUMERIC_LABEL = re.compile(r"(0[xX][0-9a-fA-F]*|[0-9]+)")
_INET_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
_NAME_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


def address_refusal(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why we will not connect to ``address`` (a phrase such as "a private address"), or
    None if it is public. ``allow_loopback`` lets loopback through (local runs only)."""
    if "%" in address:  # a zone index: only link-local addresses carry one
        return "a link-local address"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an address"
    return _refusal(ip, allow_loopback)


def _refusal(ip: IPAddress, allow_loopback: bool) -> str | None:
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = _refusal(embedded, allow_loopback)
            return None if reason is None else f"{reason} ({ip} stands for {embedded})"
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        if ip in _IPV4_COMPATIBLE and not (ip.is_unspecified or ip.is_loopback):
            return "a deprecated IPv4-compatible address"
        if ip.teredo is not None:
            return "a Teredo tunnel address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address"
    if ip == _BROADCAST:
        return "the broadcast address"
    if ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip in _UNIQUE_LOCAL:
        return "a unique local (private) address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local (private) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address is only a wrapper for, if it is one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read the way inet_aton (and so getaddrinfo) reads a numeric host: one to
    four parts, each decimal, octal (leading 0) or hex (0x), the last filling the rest;
    None if it is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(p) for p in parts):
        return None
    numbers = [int(p, 16) if p[:2].lower() == "0x" else int(p, 8) if p.startswith("0")
               else int(p) for p in parts]
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for n, part in enumerate(leading):
        value |= part << (8 * (3 - n))
    return ipaddress.IPv4Address(value)


@dataclass(frozen=True)
class _Parsed:
    scheme: str
    host: str
    port: int
    target: str
    literal: IPAddress | None


def _parse(url: str, allow_loopback: bool) -> _Parsed:
    # urlsplit quietly drops tabs and newlines; a URL that needs them is not one to trust.
    if any(c <= " " or c == "\x7f" or c == "\\" for c in url):
        raise UnsafeDestination("must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeDestination("must be an https URL")
    if scheme == "http" and not allow_loopback:
        raise UnsafeDestination("must be an https URL")
    if "@" in parts.netloc:
        raise UnsafeDestination("must not carry a user name or password")
    host = (parts.hostname or "").removesuffix(".")  # the root's dot; "a..b." stays bad
    if not host:
        raise UnsafeDestination("names no host")
    if port == 0:
        raise UnsafeDestination("port 0 is not a port")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.isascii():  # the request line is ASCII: http.client would refuse it later
        raise UnsafeDestination("must percent-encode any non-ASCII path or query")
    port = port or (443 if scheme == "https" else 80)
    if "[" in parts.netloc:
        return _Parsed(scheme, host, port, target, _literal(host))
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        address = inet_aton(host)
        if address is None:
            raise UnsafeDestination(f"{host} is neither a name nor an address")
        if str(address) != host:
            # The resolver would read it as this address; say which, and what it is.
            reason = _refusal(address, allow_loopback)
            meaning = f"{address}, {reason}" if reason else f"{address}"
            raise UnsafeDestination(
                f"{host} means {meaning}; write an address as four decimal numbers")
        return _Parsed(scheme, host, port, target, address)
    return _Parsed(scheme, _name(host, allow_loopback), port, target, None)


def _literal(host: str) -> IPAddress:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        raise UnsafeDestination(f"{host} is not an IPv6 address") from None


def _name(host: str, allow_loopback: bool) -> str:
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeDestination("has a host name that cannot be written in DNS") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_NAME_LABEL.fullmatch(label) for label in labels):
        raise UnsafeDestination(f"{host[:80]} is not a valid host name")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        if allow_loopback:
            return name
        raise UnsafeDestination(f"{name} names this machine")
    if name.endswith(PRIVATE_NAME_SUFFIXES) or name.startswith("metadata."):
        raise UnsafeDestination(f"{name} is a private name")
    if len(labels) < 2:
        # A one-label name resolves through search domains, to internal hosts (EC2's
        # instance-data, GCE's metadata): only fully qualified names are public.
        raise UnsafeDestination(f"{name} is not a fully qualified domain name")
    return name


def webhook_host(url: str, *, allow_loopback: bool = False) -> tuple[str, int]:
    """The host to resolve and the port to resolve it for; UnsafeDestination when the URL
    itself is refused (scheme, credentials, private names, odd numeric spellings)."""
    parsed = _parse(url, allow_loopback)
    return parsed.host, parsed.port


def check_webhook_destination(url: str, addresses: Sequence[str], *,
                              allow_loopback: bool = False) -> Destination:
    """The destination to connect to, if ``url`` and every one of ``addresses`` (what its
    host resolves to) are public; UnsafeDestination if any is not, UnresolvedHost if there
    are none. ``allow_loopback`` (local runs only) also accepts loopback, and plain http to
    it. A refusal for a name does not echo the addresses it resolved to: an admin learns
    that a name is private, not what is behind it."""
    parsed = _parse(url, allow_loopback)
    if parsed.literal is not None:
        reason = _refusal(parsed.literal, allow_loopback)
        if reason is not None:
            raise UnsafeDestination(f"{parsed.literal} is {reason}")
    if not addresses:
        raise UnresolvedHost(f"{parsed.host} does not resolve to any address")
    for address in addresses:
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise UnsafeDestination(f"{parsed.host} resolves to {_without_address(reason)}")
    if parsed.scheme == "http" and not all(_is_loopback(a) for a in addresses):
        raise UnsafeDestination("must be an https URL")
    return Destination(parsed.scheme, parsed.host, parsed.port, parsed.target,
                       tuple(dict.fromkeys(addresses)))


def _without_address(reason: str) -> str:
    # "a loopback address (::ffff:127.0.0.1 stands for 127.0.0.1)" -> "a loopback address"
    return reason.split(" (", 1)[0]
