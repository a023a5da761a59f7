"""How fast people may comment: a sliding window counted in the cache.

Guests are counted per IP address, logged-in users per account, with fewer comments
allowed to accounts younger than a week, as AO3 does for new accounts. The counting is a
"sliding window counter": the current fixed window's count plus the previous window's,
weighted by how much of it still lies within the last `window` seconds. That avoids the
double burst a plain fixed window allows around its edge, and needs only two cache keys.

Counting is `cache.add` (create the counter if missing) then `cache.incr`, both atomic in
the locmem and Redis backends, so concurrent requests each get their own number; an
attempt that goes over the limit takes its count back, so being refused does not push the
moment one may comment again further away.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from chapbook.people.models import User

DEFAULT_WINDOW_SECONDS = 15 * 60
DEFAULT_GUEST_LIMIT = 3
DEFAULT_NEW_USER_LIMIT = 5
DEFAULT_USER_LIMIT = 20
DEFAULT_NEW_ACCOUNT_DAYS = 7


class RateLimited(Exception):
    """Too many comments too fast; `retry_after` is how many seconds until one more fits."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"You're commenting too fast. Try again in {wait_description(self.retry_after)}.")


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _window() -> int:
    return max(1, _setting("CHAPBOOK_COMMENT_RATE_WINDOW", DEFAULT_WINDOW_SECONDS))


def limit_for(user: User | None) -> Limit:
    """The limit that applies to `user` (None for a guest)."""
    if user is None:
        count = _setting("CHAPBOOK_COMMENT_RATE_GUEST", DEFAULT_GUEST_LIMIT)
    else:
        new_for = timedelta(days=_setting("CHAPBOOK_COMMENT_RATE_NEW_ACCOUNT_DAYS", DEFAULT_NEW_ACCOUNT_DAYS))
        if user.date_joined > timezone.now() - new_for:
            count = _setting("CHAPBOOK_COMMENT_RATE_NEW_USER", DEFAULT_NEW_USER_LIMIT)
        else:
            count = _setting("CHAPBOOK_COMMENT_RATE_USER", DEFAULT_USER_LIMIT)
    return Limit(count=max(1, count), seconds=_window())


def _ip_bucket(ip: str | None) -> str:
    if not ip:
        # Guests whose address we could not read share one bucket: stricter, never looser.
        return "ip:unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "ip:unknown"
    if address.version == 6:
        # One IPv6 host usually holds a whole /64 and can pick a new address at will.
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


def bucket_for(*, user: User | None, ip: str | None) -> str:
    return f"user:{user.pk}" if user is not None else _ip_bucket(ip)


# Tests move the clock through this name.
now = time.time


def _incr(key: str, ttl: int) -> int:
    cache.add(key, 0, ttl)
    try:
        return int(cache.incr(key))
    except ValueError:
        # The key expired (or was evicted) between add and incr: start it again.
        if cache.add(key, 1, ttl):
            return 1
        return int(cache.incr(key))


def _retry_after(*, previous: int, current: int, fraction: float, limit: Limit) -> int:
    """Seconds until one more comment fits, given the counts without the refused attempt."""
    room = limit.count - current - 1
    if room >= 0 and previous > 0:
        # Still in this window, once enough of the previous window has slid out of view.
        needed = 1 - room / previous
        if needed < 1:
            return math.ceil(max(0.0, needed - fraction) * limit.seconds)
    # In the next window, where this window's comments become the weighted "previous".
    later = max(0.0, 1 - (limit.count - 1) / current) if current else 0.0
    return math.ceil((1 - fraction + later) * limit.seconds)


def hit(bucket: str, limit: Limit) -> None:
    """Count one attempt in `bucket`; raise RateLimited (and count nothing) when over `limit`."""
    moment = now()
    window = int(moment // limit.seconds)
    fraction = moment / limit.seconds - window
    ttl = 2 * limit.seconds + 60
    current_key = f"comment-rate:{bucket}:{window}"
    current = _incr(current_key, ttl)
    previous = int(cache.get(f"comment-rate:{bucket}:{window - 1}") or 0)
    if previous * (1 - fraction) + current <= limit.count:
        return
    try:
        cache.decr(current_key)
    except ValueError:
        pass  # expired meanwhile: nothing left to take back
    raise RateLimited(_retry_after(previous=previous, current=current - 1, fraction=fraction, limit=limit))


def check_comment_rate(*, user: User | None, ip: str | None) -> None:
    """Count one comment by `user` (or a guest from `ip`); raise RateLimited when too fast.

    `post_comment` calls this itself once the comment is valid; callers only catch it.
    """
    hit(bucket_for(user=user, ip=ip), limit_for(user))


def wait_description(seconds: int) -> str:
    """ "1 minute", "12 minutes", "30 seconds": how long a reader must wait, roughly."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def rate_limited_response(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """A 429 page that says how long to wait, with the same in `Retry-After`."""
    response = render(
        request,
        "429.html",
        {"retry_after": exc.retry_after, "wait": wait_description(exc.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response
