"""Request throttles per user and per anonymous address, counted in the default cache."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


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

    def wait(self):
        return self.wait_seconds


class AnonThrottle(CountingThrottle, AnonRateThrottle):
    pass


class UserThrottle(CountingThrottle, UserRateThrottle):
    pass
