"""Request throttles per user and per anonymous address, counted in Redis (REDIS_URL) or else in the default cache."""

import functools

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


@functools.cache
def shared_counters(url):
    """A Redis client for settings.REDIS_URL, one per process (its connection pool), or None without Redis."""
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


class CountingThrottle:
    """DRF's rate throttles, counting requests per window with cache.incr(): the same cost at any rate.

    DRF keeps every request's timestamp of the last window in one cache entry,
    which the cache pickles and unpickles on every request: at 1,200 a minute
    a list of 1,200 floats per request, growing with the rate. Here a window
    opens at a client's first request and counts until it expires; a client
    may get up to twice the rate across two windows, which is plenty to stop
    a runaway script.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if (client := shared_counters(settings.REDIS_URL)) is not None:
            return self.count_in_redis(client)
        self.now = self.timer()
        opened = self.cache.get(self.key)
        if opened is None:
            self.cache.add(self.key, self.now, self.duration)
            opened = self.cache.get(self.key, self.now)
        counter = f"{self.key}:{opened}"
        self.cache.add(counter, 0, self.duration)
        try:
            count = self.cache.incr(counter)
        except ValueError:
            # Evicted or expired between add() and incr().
            self.cache.set(counter, 1, self.duration)
            count = 1
        self.wait_seconds = max(opened + self.duration - self.now, 0)
        return count <= self.num_requests

    def count_in_redis(self, client):
        """The same window in one round trip (MULTI/EXEC), exact across every process and node.

        Through Django's cache API the same count takes four round trips (its
        incr() asks first whether the key exists), about 0.8 ms of CPU per request.
        """
        key = f"tracker:throttle:{self.key}"
        pipeline = client.pipeline()
        pipeline.set(key, 0, ex=self.duration, nx=True)
        pipeline.incr(key)
        pipeline.ttl(key)
        _, count, ttl = pipeline.execute()
        if ttl < 0:
            # Expired between SET and INCR, which recreated it without an expiry.
            client.expire(key, self.duration)
            ttl = self.duration
        self.wait_seconds = ttl
        return count <= self.num_requests

    def wait(self):
        return self.wait_seconds


class AnonThrottle(CountingThrottle, AnonRateThrottle):
    pass


class UserThrottle(CountingThrottle, UserRateThrottle):
    pass
