"""The one HTTP client every live source uses.

It sends a descriptive User-Agent, applies a timeout to every request, keeps an
optional minimum gap between requests to the same host (arXiv asks for one
request every 3 s), and retries 429, 5xx, connection errors, timeouts and
truncated or undecodable bodies with exponential backoff and jitter, honouring
`Retry-After`. When it finally gives up it raises `SourceUnavailable`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, TypeVar
from xml.etree.ElementTree import ParseError

import httpx

from paperwire.clock import aware_utc, utcnow

if TYPE_CHECKING:
    from paperwire.config import Settings

T = TypeVar("T")
Params = Mapping[str, str | int | float]

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceError(Exception):
    """A live source could not deliver what was asked; the message is one sentence."""


class SourceUnavailable(SourceError):
    """The server kept failing (or never answered) through every retry."""


class SourceRefused(SourceError):
    """The server answered with a permanent error such as 400 or 404."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class HttpClient:
    """A small, polite GET client around one `httpx.Client`."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_s: float = 1.0,
        max_wait_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": user_agent},
            follow_redirects=True,
            transport=transport,
        )
        self._last_request: dict[str, float] = {}
        self._throttle_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpClient:
        return cls(
            user_agent=settings.user_agent,
            timeout_s=settings.http_timeout_s,
            retries=settings.http_retries,
            backoff_s=settings.http_backoff_s,
            max_wait_s=settings.http_max_wait_s,
        )

    def get(
        self,
        url: str,
        params: Params | None = None,
        *,
        decode: Callable[[bytes], T],
        min_interval_s: float = 0.0,
        accept: str | None = None,
    ) -> T:
        """GET `url` and return `decode(body)`, retrying transient failures.

        `decode` raising ValueError or an XML ParseError counts as a truncated
        or garbled body and is retried like a 5xx. `min_interval_s` keeps at
        least that many seconds between the starts of requests to this host.
        """
        try:
            request = self._client.build_request(
                "GET", url, params=params, headers={"Accept": accept} if accept else None
            )
        except httpx.InvalidURL as exc:
            raise SourceRefused(f"cannot request {url!r}: {str(exc).rstrip('.')}.") from None
        attempts = self.retries + 1
        reason = ""
        for attempt in range(1, attempts + 1):
            self._wait_for_turn(request.url.netloc.decode(), min_interval_s)
            try:
                return self._attempt(request, decode)
            except _Retryable as failure:
                reason = failure.reason
                if attempt < attempts:
                    self._sleep(self._delay(attempt, failure.retry_after))
        tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
        raise SourceUnavailable(
            f"{_describe(request.url)} failed after {tries}; last error: {reason}."
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------

    def _attempt(self, request: httpx.Request, decode: Callable[[bytes], T]) -> T:
        try:
            response = self._client.send(request)
        except (httpx.UnsupportedProtocol, httpx.TooManyRedirects) as exc:
            reason = str(exc).rstrip(".")
            raise SourceRefused(f"cannot request {_describe(request.url)}: {reason}.") from None
        except httpx.TimeoutException:
            raise _Retryable("the server did not answer in time") from None
        except httpx.RemoteProtocolError as exc:
            raise _Retryable(f"the response was cut off ({exc})") from None
        except httpx.DecodingError as exc:
            raise _Retryable(f"the body could not be decoded ({exc})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"could not connect ({exc or type(exc).__name__})") from None
        status = response.status_code
        if status in RETRYABLE_STATUS or status >= 500:
            raise _Retryable(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise SourceRefused(f"{_describe(request.url)} was refused with HTTP {status}.")
        try:
            return decode(response.content)
        except (ValueError, ParseError) as exc:
            raise _Retryable(f"the body was incomplete or malformed ({exc})") from None

    def _wait_for_turn(self, host: str, min_interval_s: float) -> None:
        """Sleep until `min_interval_s` has passed since the last request to `host`."""
        with self._throttle_lock:
            now = time.monotonic()
            last = self._last_request.get(host)
            wait = 0.0 if last is None else max(0.0, last + min_interval_s - now)
            self._last_request[host] = now + wait
        if wait > 0:
            self._sleep(wait)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_wait_s)
        ceiling = min(self.max_wait_s, self.backoff_s * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (aware_utc(moment) - utcnow()).total_seconds())


def _describe(url: httpx.URL) -> str:
    return f"GET {url}"
