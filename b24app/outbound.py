"""One guard for every outbound URL a portal admin or a robot can influence (the 1C base URL, photo links
of the job robots, later webhook and document URLs) — the app's SSRF defence.

Why: an administrator types the 1C URL, a workflow author types a photo link; without a guard either
can make our server fetch ``http://127.0.0.1:…``, a LAN host or the cloud metadata service
(169.254.169.254) and, through error texts, read what answered. The rules:

* scheme http or https only;
* the host is resolved once and *every* address it resolves to must be public: loopback, private
  (RFC 1918, CGNAT 100.64/10, ULA fc00::/7), link-local (169.254/16, fe80::/10), multicast, unspecified
  and reserved ranges are refused — unless the operator allows them in ``B24APP_OUTBOUND_ALLOW``
  (``Settings.outbound_allow``: comma-separated CIDRs or addresses and host names, e.g.
  ``10.0.0.0/8,1c.local``; a self-hosted 1C on the LAN is normal);
* the connection goes to the address that was checked (``PinnedAdapter``: no second DNS lookup, so a
  rebinding DNS server cannot swap it in between), while the Host header and TLS SNI and certificate
  check stay on the host name;
* redirects are never followed, proxies from the environment are not used;
* refusals are our own words (``OutboundRefused``) — callers never show an answer's body either.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .config import Settings

log = logging.getLogger("b24app.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundRefused(ValueError):
    """The URL may not be fetched. ``str()`` is safe to show to an administrator: it names the host
    the person typed and the rule, never an address or anything that answered."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    scheme: str
    host: str                # lower-case, IDNA, no brackets, no trailing dot
    port: int
    addresses: tuple[str, ...]   # every address the name resolved to, all checked; connections go to these only

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if DEFAULT_PORTS.get(self.scheme) == self.port else f"{name}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (order kept, duplicates dropped)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _forbidden(ip: IPAddress) -> str | None:
    """Why an address is not a public one, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private or not ip.is_global:
        return "private"
    return None


def parse_allow(text: str | Iterable[str]) -> tuple[tuple, frozenset]:
    """``"10.0.0.0/8, 1c.local"`` → (networks, host names). An entry that is not an address or a CIDR
    is a host name."""
    items = text.split(",") if isinstance(text, str) else list(text)
    nets, hosts = [], set()
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            if "/" in item:
                log.warning("B24APP_OUTBOUND_ALLOW: %r is neither a CIDR nor a host name; ignored", item)
                continue
            hosts.add(_norm_host(item))
    return tuple(nets), frozenset(hosts)


def _norm_host(host: str) -> str:
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


class OutboundGuard:
    """``check(url)`` → Target or OutboundRefused; ``session()`` → a requests session that checks and
    pins every request it sends. ``resolver(host, port)`` is injectable (tests: a rebinding stub)."""

    def __init__(self, allow: str | Iterable[str] = "", resolver: Resolver | None = None):
        self.networks, self.hosts = parse_allow(allow)
        self.resolver = resolver or system_resolver

    @classmethod
    def from_settings(cls, settings, resolver: Resolver | None = None) -> "OutboundGuard":
        return cls(getattr(settings, "outbound_allow", "") or "", resolver)

    def _allowed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)

    def check(self, url: str) -> Target:
        parts = urlsplit(str(url).strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise OutboundRefused(f"only http:// and https:// addresses are fetched, not {scheme or 'no'} scheme")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise OutboundRefused("the address has an invalid port") from None
        host = _norm_host(parts.hostname or "")
        if not host:
            raise OutboundRefused("the address has no host name")
        try:
            literal = ipaddress.ip_address(host)
            addresses = [str(literal)]
        except ValueError:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError):
                addresses = []
            if not addresses:
                raise OutboundRefused(f"{host} cannot be resolved") from None
        named = host in self.hosts
        for addr in addresses:
            ip = ipaddress.ip_address(addr.split("%", 1)[0])
            why = _forbidden(ip)
            if why and not named and not self._allowed(ip):
                log.warning("outbound: %s refused (%s address)", host, why)
                raise OutboundRefused(f"{host} is a {why} address: the app does not connect there unless the "
                                      f"operator allows it (B24APP_OUTBOUND_ALLOW)")
        return Target(scheme, host, port, tuple(addresses))

    def session(self) -> "GuardedSession":
        return GuardedSession(self)


def default_guard() -> OutboundGuard:
    """The deployment's guard when a caller has no Settings at hand: the same environment
    (``Settings.from_env``) the processes are configured from."""
    return OutboundGuard(Settings.from_env().outbound_allow)


class PinnedAdapter(HTTPAdapter):
    """Checks each request's URL with the guard and connects to the checked address, keeping the host
    name for the Host header, SNI and the certificate check (urllib3 ``server_hostname`` /
    ``assert_hostname`` pool keys)."""

    def __init__(self, guard: OutboundGuard, **kwargs):
        self.guard = guard
        super().__init__(**kwargs)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        target = self.guard.check(request.url)
        request.headers["Host"] = target.host_header
        for i, address in enumerate(target.addresses):
            request.b24app_pin = (target, address)
            try:
                return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies={})
            except requests.ConnectionError as exc:
                # like a resolver-driven connect: the next checked address, but only when nothing was sent
                if i + 1 == len(target.addresses) or not _not_connected(exc):
                    raise
        raise AssertionError("unreachable")

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        target, address = request.b24app_pin
        host_params.update(host=address, port=target.port)
        if target.scheme == "https":
            pool_kwargs.update(server_hostname=target.host, assert_hostname=target.host)
        return host_params, pool_kwargs


def _not_connected(exc: requests.ConnectionError) -> bool:
    """The connection itself failed (refused, unreachable, connect timeout): the request never left."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(exc, requests.ConnectTimeout) or isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class GuardedSession(requests.Session):
    """A session whose every request goes through the guard: pinned, no redirects, no env proxies."""

    def __init__(self, guard: OutboundGuard):
        super().__init__()
        self.trust_env = False            # no HTTP(S)_PROXY (the proxy would resolve the name again), no .netrc
        self.adapter = PinnedAdapter(guard)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)

    def get_adapter(self, url):
        return self.adapter              # every scheme reaches the guard, which refuses all but http(s)

    def request(self, method, url, *args, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)
