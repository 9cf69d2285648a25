"""Fetching feeds and pages politely and safely, with httpx.

Safety rules, for every request and every redirect hop:

* http and https only, to a host name or address, on any port;
* the host is resolved first, and refused if any of its addresses is not a public unicast
  address (loopback, private, link-local, which holds the cloud metadata address
  169.254.169.254, shared, multicast, reserved, unspecified); the address actually
  connected to is checked again before the body is read, so a DNS answer that changes
  between the check and the connection (rebinding) is caught too. ``allow_private``
  (``BOT_FETCH_ALLOW_PRIVATE=1``, for tests and intranet feeds) lifts this rule only;
* at most ``max_redirects`` hops, each checked like the first;
* the body is streamed and cut off past ``max_bytes`` (after decompression, so a gzip bomb
  is cut off too), a Content-Length above it is refused unread; one deadline covers the
  whole request (a server that trickles bytes is cut off as well), beside httpx's connect
  and read timeouts;
* only the content types the caller asked for (feeds: XML, JSON or text; pages: HTML);
* a User-Agent that says what the bot is. Proxy variables are ignored (``trust_env=False``):
  the connected-address check must see the real server.

Conditional GET (If-None-Match, If-Modified-Since) and the hints a poller needs
(Cache-Control max-age, Retry-After, permanent redirects) come back in :class:`Response`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import enum
import ipaddress
import re
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from bot.errors import FetchFailed, UnsafeURL

USER_AGENT = "NewsroomQABot/0.1 (newsroom Q&A Telegram bot; reads feeds and article pages)"
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class Kind(enum.Enum):
    """What the caller expects, which decides the Accept header and the content types let in."""

    FEED = "feed"  # XML, JSON or text; HTML too, so that a page can be searched for its feed
    PAGE = "page"  # HTML


_ACCEPT = {
    Kind.FEED: "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1",
    Kind.PAGE: "text/html, application/xhtml+xml;q=0.9, */*;q=0.1",
}


def content_type_allowed(kind: Kind, content_type: str) -> bool:
    """A missing type is let in (the parser decides); otherwise feeds need XML, JSON or
    text, pages HTML."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return True
    if kind is Kind.PAGE:
        return media in ("text/html", "application/xhtml+xml")
    return media.startswith("text/") or "xml" in media or "json" in media


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits of every request (see the module doc)."""

    allow_private: bool = False
    max_bytes: int = 5 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 30.0  # one deadline for all hops and the whole body
    max_redirects: int = 5
    per_host: int = 2  # requests at once to one server (host and port)
    max_connections: int = 50  # requests at once in all
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class Response:
    """A completed request: the final URL and status, the (decoded) body, and what a poller
    keeps for the next request."""

    url: str  # after redirects
    status: int  # 200 or 304
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    max_age: float | None = None  # Cache-Control max-age, seconds
    permanent_url: str | None = None  # where every hop so far was a 301/308 to

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def refused_address(address: str) -> str | None:
    """Why the bot may not connect to ``address`` (an IP literal), or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (
        ("a loopback", ip.is_loopback),
        ("a link-local (or cloud metadata)", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("an unspecified", ip.is_unspecified),
        ("a reserved", ip.is_reserved),
        ("a private", ip.is_private),
    ):
        if flag:
            return f"{reason} address ({ip})"
    if not ip.is_global:  # shared (100.64/10), documentation ranges, …
        return f"a non-public address ({ip})"
    return None


def check_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) ``url``, or :class:`UnsafeURL`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https links can be fetched, not {parts.scheme or '?'}:")
    if not parts.hostname:
        raise UnsafeURL("the link has no host")
    if parts.username or parts.password:
        raise UnsafeURL("links with a user name or password are not fetched")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def max_age_seconds(cache_control: str | None) -> float | None:
    match = _MAX_AGE.search(cache_control or "")
    return float(match[1]) if match else None


@dataclass(slots=True)
class Traffic:
    """What a session cost, for logs and the benchmark."""

    requests: int = 0
    bytes_received: int = 0  # on the wire (compressed)


class Fetcher:
    """Opens :class:`Session`\\ s; holds the policy and nothing else (a session's client
    belongs to the event loop it was made in, and the console runs one loop per command)."""

    def __init__(self, policy: FetchPolicy = FetchPolicy()) -> None:
        self.policy = policy

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        policy = self.policy
        client = httpx.AsyncClient(
            follow_redirects=False,  # followed by hand, each hop checked
            trust_env=False,
            timeout=httpx.Timeout(
                policy.read_timeout, connect=policy.connect_timeout, pool=policy.total_timeout
            ),
            limits=httpx.Limits(
                max_connections=policy.max_connections,
                max_keepalive_connections=policy.max_connections,
            ),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        try:
            yield Session(client, policy)
        finally:
            await client.aclose()


@dataclass
class Session:
    """Requests sharing one connection pool, at most ``per_host`` at once per server (host
    and port)."""

    client: httpx.AsyncClient
    policy: FetchPolicy
    traffic: Traffic = field(default_factory=Traffic)
    _servers: defaultdict[str, asyncio.Semaphore] = field(init=False)  # by "host:port"

    def __post_init__(self) -> None:
        self._servers = defaultdict(lambda: asyncio.Semaphore(self.policy.per_host))

    async def get(
        self,
        url: str,
        kind: Kind,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``url`` following redirects; a 200 or a 304, else :class:`FetchFailed` (or
        :class:`UnsafeURL`)."""
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                return await self._follow(url, kind, headers)
        except TimeoutError:
            raise FetchFailed(f"timed out after {self.policy.total_timeout:g} s") from None
        except httpx.TimeoutException:
            raise FetchFailed("timed out") from None
        except httpx.HTTPError as error:  # connection refused, reset, bad TLS, bad HTTP
            raise FetchFailed(f"network error: {type(error).__name__}: {error}") from None

    async def _follow(self, url: str, kind: Kind, headers: dict[str, str]) -> Response:
        permanent: str | None = None
        all_permanent = True
        for _hop in range(self.policy.max_redirects + 1):
            host, port = check_url(url)
            if not self.policy.allow_private:
                await _check_host(host, port)
            async with self._servers[f"{host.lower()}:{port}"]:
                self.traffic.requests += 1
                async with self.client.stream("GET", url, headers=headers) as response:
                    self._check_peer(response)
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        self.traffic.bytes_received += response.num_bytes_downloaded
                        all_permanent = all_permanent and response.status_code in _PERMANENT
                        url = urljoin(url, location.strip())
                        permanent = url if all_permanent else permanent
                        continue
                    try:
                        return await self._complete(response, url, kind, permanent)
                    finally:
                        self.traffic.bytes_received += response.num_bytes_downloaded
        raise FetchFailed(f"more than {self.policy.max_redirects} redirects")

    def _check_peer(self, response: httpx.Response) -> None:
        if self.policy.allow_private:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            raise UnsafeURL("could not check the address connected to")
        if reason := refused_address(peer[0]):
            raise UnsafeURL(f"the server is at {reason}, which the bot does not fetch from")

    async def _complete(
        self, response: httpx.Response, url: str, kind: Kind, permanent: str | None
    ) -> Response:
        status = response.status_code
        headers = response.headers
        if status == 304:
            return Response(
                url,
                304,
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
                max_age=max_age_seconds(headers.get("cache-control")),
                permanent_url=permanent,
            )
        if status != 200:
            reason = response.reason_phrase or ""
            raise FetchFailed(
                f"HTTP {status} {reason}".rstrip(),
                status=status,
                retry_after=retry_after_seconds(headers.get("retry-after")),
            )
        content_type = headers.get("content-type", "")
        if not content_type_allowed(kind, content_type):
            wanted = "an HTML page" if kind is Kind.PAGE else "a feed"
            raise FetchFailed(f"not {wanted}: the server sent {content_type.split(';')[0]}")
        limit = self.policy.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchFailed(f"too large ({int(declared) / 2**20:.1f} MB, limit {_mb(limit)})")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchFailed(f"too large (over the limit of {_mb(limit)})")
        return Response(
            url,
            200,
            bytes(body),
            content_type,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            max_age=max_age_seconds(headers.get("cache-control")),
            permanent_url=permanent,
        )


def _mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


async def _check_host(host: str, port: int) -> None:
    """Refuse a host any of whose addresses the bot may not reach."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise FetchFailed(f"cannot resolve {host}: {error.strerror or error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if reason := refused_address(address):
            raise UnsafeURL(f"{host} is {reason}, which the bot does not fetch from")
