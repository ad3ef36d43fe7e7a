"""No internal fetches: refuse private addresses after name resolution, on every hop.

A feed, a sitemap, a redirect or a <meta refresh> can point the crawler at anything it can
reach: the machine's own services, the private network, a cloud's metadata endpoint. So
every request (redirect hops and meta refreshes are new requests) is checked here after its
host is resolved, which also catches spellings such as 0x7f000001, 2130706433 or a
full-width ｌｏｃａｌｈｏｓｔ. A source may always fetch from the host and port of its own
seeds, since the operator named them; anything else private needs [crawl] allow_private.
The resolver repeats the check, per host, when the download connects (a name that changes
its answer between the check and the connection is refused there).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from briefing.config import Config, ConfigError, SourceConfig

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred

log = logging.getLogger(__name__)
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
PRIVATE_PREFIX = "private address"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Metadata services at addresses Python counts as global (the rest are link-local or private).
METADATA = frozenset(map(ipaddress.ip_address, ("192.0.0.192", "168.63.129.16", "100.100.100.200")))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(ip: IP) -> bool:
    """Return whether ip is an ordinary Internet address (an IPv4 inside IPv6 is unwrapped)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not ip.is_multicast and ip not in METADATA


def literal_ip(host: str) -> IP | None:
    """Return host as an IP address when it is a plain literal, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def endpoint(url: str) -> tuple[str, int] | None:
    """Return (lowercased host, port) of an http(s) URL, or None when it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    return (host, port) if host else None


@dataclass(frozen=True)
class AddressPolicy:
    """Which private addresses may be fetched: the seeds' endpoints and [crawl] allow_private."""

    seeds: frozenset[tuple[str, int]] = frozenset()
    hosts: frozenset[tuple[str, int | None]] = frozenset()  # port None: any port
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def build(cls, seed_urls: Iterable[str], allow_private: Iterable[str]) -> AddressPolicy:
        seeds = frozenset(filter(None, map(endpoint, seed_urls)))
        hosts: set[tuple[str, int | None]] = set()
        networks = []
        for entry in allow_private:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            parsed = endpoint(f"http://{entry}")
            if parsed is not None:
                hosts.add((parsed[0], parsed[1] if ":" in entry.rsplit("]", 1)[-1] else None))
        return cls(seeds, frozenset(hosts), tuple(networks))

    @classmethod
    def for_source(cls, source: SourceConfig, config: Config | None) -> AddressPolicy:
        seeds = [*source.feeds, *source.sitemaps, *source.start_urls]
        return cls.build(seeds, config.crawl.allow_private if config else ())

    def is_seed(self, host: str, port: int) -> bool:
        return (host, port) in self.seeds

    def names_seed(self, host: str) -> bool:
        """Return whether host is the host of one of the seeds, on whatever port."""
        return any(host == seed for seed, _ in self.seeds)

    def allows(self, host: str, port: int | None, ip: IP) -> bool:
        """Return whether host:port at ip may be fetched (port None: on some port)."""
        if is_public(ip):
            return True
        names = {host, str(ip)}
        if port is None:
            named = {h for h, _ in self.seeds} | {h for h, _ in self.hosts}
            return bool(names & named) or any(ip in network for network in self.networks)
        wanted = {(name, p) for name in names for p in (port, None)}
        return bool(wanted & (self.seeds | self.hosts)) or any(ip in n for n in self.networks)


class PrivateAddressError(DNSLookupError):
    """A name resolved to a private address that nothing allows."""


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing private answers for hosts no source may use.

    It knows hosts, not ports or sources: PrivateAddressMiddleware applies the exact rule
    before each download, and resolves through lookup() so that both see the same answer.
    """

    policy: AddressPolicy = AddressPolicy()
    seed_addresses: frozenset[str] = frozenset()  # what the seeds' host names resolved to

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        from scraper.addon import config_from_settings  # late: addon imports the store

        try:
            config = config_from_settings(crawler.settings)
        except ConfigError:
            return resolver  # no sources: no private host is allowed at all
        seeds = [url for s in config.sources for url in (*s.feeds, *s.sitemaps, *s.start_urls)]
        resolver.policy = AddressPolicy.build(seeds, config.crawl.allow_private)
        return resolver

    def lookup(self, name: str) -> Deferred[str]:
        """Resolve name (cached) without the check."""
        return super().getHostByName(name)

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        return self.lookup(name).addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        ip, host = literal_ip(address), name.lower().rstrip(".")
        if ip is None or str(ip) in self.seed_addresses:
            return address
        if self.policy.names_seed(host):  # the seed's own name: learn its address
            self.seed_addresses |= {str(ip)}
        elif not self.policy.allows(host, None, ip):
            log.warning("refused to connect to %s: it resolves to private address %s", name, ip)
            raise PrivateAddressError(f"{name} resolves to private address {ip}")
        return address


class PrivateAddressMiddleware:
    """Refuse a request whose host resolves to a private address the source may not use."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._policy: AddressPolicy | None = None
        self._seed_addresses: set[tuple[str, int]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler)

    def policy(self) -> AddressPolicy:
        if self._policy is None:
            from scraper.addon import config_from_settings

            source = getattr(self.crawler.spider, "source", None)
            config = config_from_settings(self.crawler.settings)
            if isinstance(source, SourceConfig):
                self._policy = AddressPolicy.for_source(source, config)
            else:
                self._policy = AddressPolicy.build((), config.crawl.allow_private)
        return self._policy

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        found = endpoint(request.url)
        if found is None or parts.scheme not in DEFAULT_PORTS:
            return
        host, port = found
        policy = self.policy()
        if policy.is_seed(host, port):
            return
        ip = literal_ip(host) or await self._resolve(host)
        if ip is None or policy.allows(host, port, ip):
            return
        if (str(ip), port) not in await self._seed_endpoints(policy):
            raise IgnoreRequest(f"{PRIVATE_PREFIX} {ip} ({host}:{port}) is not allowed")

    async def _seed_endpoints(self, policy: AddressPolicy) -> set[tuple[str, int]]:
        """Return (address, port) of each seed: another name for a seed's server is fine."""
        if self._seed_addresses is None:
            found = set()
            for host, port in policy.seeds:
                ip = literal_ip(host) or await self._resolve(host)
                if ip is not None:
                    found.add((str(ip), port))
            self._seed_addresses = found
        return self._seed_addresses

    async def _resolve(self, host: str) -> IP | None:
        """Resolve host as the download will; None when it cannot be (the download says so)."""
        from twisted.internet import reactor

        resolver: Any = getattr(reactor, "resolver", None)
        if resolver is None:
            return None
        guarded = isinstance(resolver, GuardedResolver)
        lookup = resolver.lookup if guarded else resolver.getHostByName
        try:
            address = await maybe_deferred_to_future(lookup(host))
        except Exception:  # unresolvable or refused: the download fails with its own reason
            return None
        return literal_ip(str(address))
