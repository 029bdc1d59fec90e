"""Reading official sources over HTTPS, carefully (httpx, under trio).

- **Links**: only ``https`` URLs whose host (and port) is on the source's allow-list are
  fetched, at every hop: the index's own URL, each link in it, each redirect. ``file:``,
  ``javascript:``, plain ``http:``, credentials in the URL, an off-list host (an IP of the
  local network, a cloud metadata address, another domain) are refused with a reason before
  any connection. (Tests add ``http://127.0.0.1:<port>`` explicitly, see
  :attr:`~node.bridge.settings.BridgeSettings.allow_http_loopback`.)
- **Bounded**: connect, read and whole-transfer timeouts; at most ``max_redirects`` hops; the
  body is read in chunks and the transfer stops past the size cap (a ``Content-Length`` over
  it is refused up front). Only identity and gzip bodies are accepted, and gzip is inflated
  with a bound, so a compression bomb costs no more than the cap.
- **Polite**: conditional GET (``If-None-Match``/``If-Modified-Since`` from the last answer);
  a ``Retry-After`` is passed on to the caller's back-off. No cookies, no proxy or netrc from
  the environment, a User-Agent naming the bridge and its contact.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
import trio

from .errors import FetchFailed, LinkRefused, Reason
from .settings import BridgeSettings, is_loopback, url_host

__all__ = ["FetchResult", "Fetcher", "LinkPolicy", "Validators"]

USER_AGENT = "entraide-bridge/0.1 (neighbourhood mutual aid; official alerts mirror)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
CAP_ACCEPT = "application/cap+xml, application/xml;q=0.9, text/xml;q=0.8"
INDEX_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"


@dataclass(frozen=True)
class LinkPolicy:
    """Where one source's links may lead."""

    hosts: frozenset[str]
    allow_http_loopback: bool = False

    def check(self, url: str, *, base: str | None = None) -> str:
        """The absolute URL to fetch, or :class:`LinkRefused`."""
        absolute = urljoin(base, url.strip()) if base else url.strip()
        try:
            parts = urlsplit(absolute)
            host = url_host(absolute)
        except ValueError:  # a port out of range, a broken IPv6 literal
            raise LinkRefused(Reason.BAD_URL, f"{_shown(url)} is not a URL") from None
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise LinkRefused(
                Reason.SCHEME_NOT_ALLOWED, f"{_shown(url)}: only https links are followed"
            )
        if parts.username is not None or parts.password is not None or not parts.hostname:
            raise LinkRefused(Reason.BAD_URL, f"{_shown(url)}: no host, or credentials in it")
        if scheme == "http" and not (self.allow_http_loopback and is_loopback(parts.hostname)):
            raise LinkRefused(
                Reason.SCHEME_NOT_ALLOWED, f"{_shown(url)}: only https links are followed"
            )
        if host not in self.hosts:
            raise LinkRefused(
                Reason.HOST_NOT_ALLOWED,
                f"{_shown(url)}: host {host} is not on this source's allow-list",
            )
        return absolute


def _shown(url: str) -> str:
    text = url.strip()
    return repr(text if len(text) <= 80 else text[:77] + "...")


@dataclass(frozen=True)
class Validators:
    """What the server said last time, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    #: None when the server answered 304 Not Modified.
    body: bytes | None
    validators: Validators


class Fetcher:
    """One HTTP client for the bridge; :meth:`open` it in the service's nursery."""

    def __init__(self, client: httpx.AsyncClient, settings: BridgeSettings) -> None:
        self.client = client
        self.settings = settings

    @staticmethod
    def client_for(settings: BridgeSettings) -> httpx.AsyncClient:
        agent = USER_AGENT if not settings.contact else f"{USER_AGENT} {settings.contact}"
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                settings.timeout_read_s,
                connect=settings.timeout_connect_s,
                pool=settings.timeout_connect_s,
            ),
            headers={"User-Agent": agent, "Accept-Encoding": "gzip"},
        )

    async def get(
        self,
        url: str,
        *,
        policy: LinkPolicy,
        max_bytes: int,
        accept: str,
        validators: Validators | None = None,
    ) -> FetchResult:
        """GET ``url`` within the rules above; :class:`FetchFailed` or :class:`LinkRefused`."""
        with trio.move_on_after(self.settings.timeout_total_s) as scope:
            return await self._get(url, policy, max_bytes, accept, validators)
        assert scope.cancelled_caught
        raise FetchFailed(
            Reason.TIMEOUT, f"{url}: no complete answer within {self.settings.timeout_total_s:g} s"
        )

    async def _get(
        self,
        url: str,
        policy: LinkPolicy,
        max_bytes: int,
        accept: str,
        validators: Validators | None,
    ) -> FetchResult:
        current = policy.check(url)
        headers = {"Accept": accept}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        for _hop in range(self.settings.max_redirects + 1):
            try:
                async with self.client.stream("GET", current, headers=headers) as response:
                    if response.status_code in _REDIRECTS:
                        location = response.headers.get("location", "")
                        current = policy.check(location, base=current)
                        continue
                    if response.status_code == 304:
                        return FetchResult(current, None, validators or Validators())
                    if response.status_code != 200:
                        failed = FetchFailed(
                            Reason.HTTP_STATUS, f"{current}: HTTP {response.status_code}"
                        )
                        failed.retry_after = _retry_after(
                            response.headers.get("retry-after"), time.time()
                        )
                        raise failed
                    body = await _read_capped(response, max_bytes, current)
                    return FetchResult(
                        current,
                        body,
                        Validators(
                            etag=response.headers.get("etag"),
                            last_modified=response.headers.get("last-modified"),
                        ),
                    )
            except httpx.TimeoutException as exc:
                raise FetchFailed(Reason.TIMEOUT, f"{current}: {type(exc).__name__}") from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise FetchFailed(
                    Reason.NETWORK, f"{current}: {type(exc).__name__}: {exc}"
                ) from None
        raise FetchFailed(
            Reason.TOO_MANY_REDIRECTS,
            f"{url}: more than {self.settings.max_redirects} redirects",
        )


def _retry_after(value: str | None, now: float) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as a delay in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and not _gzipped(response):
        raise FetchFailed(Reason.TOO_LARGE, f"{url}: {declared} bytes announced (max {max_bytes})")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise FetchFailed(Reason.NETWORK, f"{url}: content encoding {encoding!r} not accepted")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        if inflater is None:
            size += len(chunk)
            chunks.append(chunk)
        else:
            data = chunk
            while data and size <= max_bytes:
                try:
                    out = inflater.decompress(data, max_bytes + 1 - size)
                except zlib.error as exc:
                    raise FetchFailed(Reason.NETWORK, f"{url}: bad gzip body ({exc})") from None
                size += len(out)
                chunks.append(out)
                data = inflater.unconsumed_tail
        if size > max_bytes:
            raise FetchFailed(Reason.TOO_LARGE, f"{url}: more than {max_bytes} bytes")
    return b"".join(chunks)


def _gzipped(response: httpx.Response) -> bool:
    encoding: str = response.headers.get("content-encoding", "")
    return encoding.strip().lower() == "gzip"
