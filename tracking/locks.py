"""Locks across processes and machines, in the default cache (Redis when REDIS_URL is set).

For jobs that must not run twice at once, such as a scheduled reminder run
started on every node by cron: the first node takes the lock, the others
skip. With the local-memory cache (no REDIS_URL) a lock holds within one
process only, which is enough when one machine runs the job.
"""

import contextlib
import uuid

from django.core.cache import cache


@contextlib.contextmanager
def held(name, *, seconds):
    """`with held("send_reminders", seconds=600) as taken:` taken is False when someone else holds it.

    The lock expires after `seconds` even if its holder dies; it is released
    at the end of the block only by its own holder (an expired lock taken over
    by another is left alone).
    """
    key, owner = f"lock:{name}", uuid.uuid4().hex
    taken = cache.add(key, owner, seconds)
    try:
        yield taken
    finally:
        # Not atomic with the get, but a lock only outlives its expiry by a
        # holder's mistake; the worst case is one more run, never two at once early.
        if taken and cache.get(key) == owner:
            cache.delete(key)
