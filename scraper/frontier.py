"""The shared frontier in Redis: a priority queue whose popped requests stay owned until done.

scrapy-redis pops requests destructively, so a worker killed mid-download would lose them.
Here a pop moves the request's token, atomically, into the popping worker's in-flight set;
the worker acknowledges it once Scrapy has handled it fully (downloaded, parsed, items
stored, follow-up requests pushed). Every worker refreshes a heartbeat key with an expiry;
any live worker that finds a worker's heartbeat gone puts that worker's in-flight tokens
back in the queue, where the others fetch them again.

Keys, for a queue key Q (one per spider, e.g. "briefing:yonhap:requests"):
  Q               sorted set  token -> score (priority first, then arrival order)
  Q:data          hash        token -> the encoded request
  Q:seq           counter     the last token handed out
  Q:workers       set         workers that may hold tokens
  Q:inflight:W    sorted set  token -> score, the tokens worker W holds
  Q:alive:W       string      W's heartbeat; it expires when W stops refreshing it
  Q:seeding       string      set while a crawl's seeding worker has not pushed its seeds yet
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

from redis import Redis

log = logging.getLogger(__name__)

# Score: priority first (higher pops sooner), then arrival order; tokens stay below 1e12.
_PUSH = """
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, ARGV[1])
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) * -1e12 + token, token)
return token
"""
_POP = """
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
local data = redis.call('HGET', KEYS[2], item[1])
if not data then return {item[1], false} end
redis.call('ZADD', KEYS[3], item[2], item[1])
redis.call('SADD', KEYS[4], ARGV[1])
return {item[1], data}
"""
_ACK = """
local done = 0
for _, token in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], token) == 1 then
    redis.call('HDEL', KEYS[2], token)
    done = done + 1
  end
end
return done
"""
# Only a worker whose heartbeat is gone loses its tokens; ARGV[2] = "1" skips that check.
_REQUEUE = """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local items = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do redis.call('ZADD', KEYS[1], items[i + 1], items[i]) end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return #items / 2
"""


@dataclass(frozen=True, slots=True)
class FrontierKeys:
    """The Redis keys of one spider's frontier, derived from its queue key."""

    queue: str

    @property
    def data(self) -> str:
        return f"{self.queue}:data"

    @property
    def seq(self) -> str:
        return f"{self.queue}:seq"

    @property
    def workers(self) -> str:
        return f"{self.queue}:workers"

    @property
    def seeding(self) -> str:
        return f"{self.queue}:seeding"

    def inflight(self, worker: str) -> str:
        return f"{self.queue}:inflight:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.queue}:alive:{worker}"


class ReliableQueue:
    """One spider's shared queue of encoded requests, with per-worker in-flight ownership."""

    def __init__(self, server: Redis, key: str, worker: str) -> None:
        self.server = server
        self.keys = FrontierKeys(key)
        self.worker = worker
        self._push = server.register_script(_PUSH)
        self._pop = server.register_script(_POP)
        self._ack = server.register_script(_ACK)
        self._requeue = server.register_script(_REQUEUE)

    def __len__(self) -> int:
        return int(self.server.zcard(self.keys.queue))

    def push(self, data: bytes, priority: int = 0) -> str:
        """Queue an encoded request; return its token."""
        keys = [self.keys.queue, self.keys.data, self.keys.seq]
        return str(self._push(keys=keys, args=[data, priority]))

    def pop(self) -> tuple[str, bytes] | None:
        """Take the next request and hold it as this worker's; None when the queue is empty."""
        keys = [self.keys.queue, self.keys.data, self.keys.inflight(self.worker), self.keys.workers]
        while True:
            popped = self._pop(keys=keys, args=[self.worker])
            if not popped:
                return None
            token, data = popped
            if data:  # no data: a worker presumed dead finished it after all
                return _text(token), bytes(data)

    def ack(self, tokens: list[str]) -> int:
        """Mark tokens handled; return how many this worker still held."""
        if not tokens:
            return 0
        return int(self._ack(keys=[self.keys.inflight(self.worker), self.keys.data], args=tokens))

    def heartbeat(self, timeout_ms: int) -> None:
        """Say this worker is alive for the next timeout_ms milliseconds."""
        with self.server.pipeline() as pipe:
            pipe.set(self.keys.alive(self.worker), "1", px=timeout_ms)
            pipe.sadd(self.keys.workers, self.worker)
            pipe.execute()

    def requeue_orphans(self) -> int:
        """Put the tokens of every worker whose heartbeat expired back in the queue."""
        moved = 0
        for worker in map(_text, self.server.smembers(self.keys.workers)):
            if worker != self.worker:
                moved += self._requeue_of(worker, force=False)
        return moved

    def release(self) -> int:
        """Leave: give this worker's unfinished tokens back and stop being alive."""
        self.server.delete(self.keys.alive(self.worker))
        return self._requeue_of(self.worker, force=True)

    def _requeue_of(self, worker: str, *, force: bool) -> int:
        keys = [
            self.keys.queue,
            self.keys.inflight(worker),
            self.keys.alive(worker),
            self.keys.workers,
        ]
        moved = int(self._requeue(keys=keys, args=[worker, "1" if force else "0"]))
        if moved:
            log.warning("put %d requests of worker %s back in the frontier", moved, worker)
        return moved

    def in_flight(self) -> int:
        """Return how many requests all workers hold, the dead ones' included."""
        workers = [_text(worker) for worker in self.server.smembers(self.keys.workers)]
        if not workers:
            return 0
        with self.server.pipeline(transaction=False) as pipe:
            for worker in workers:
                pipe.zcard(self.keys.inflight(worker))
            return sum(int(count) for count in pipe.execute())

    def busy(self) -> bool:
        """Return whether any work is queued, held by a worker, or about to be seeded."""
        queued = len(self) > 0 or bool(self.server.exists(self.keys.seeding))
        return queued or self.in_flight() > 0


def announce_seeding(server: Redis, queue_key: str, seconds: int) -> None:
    """Tell workers that seeds are coming, so none stops before the seeding worker starts."""
    server.set(FrontierKeys(queue_key).seeding, "1", ex=max(1, seconds))


def seeded(server: Redis, queue_key: str) -> None:
    """Say the seeds are in the queue: from now on an empty frontier means a finished crawl."""
    server.delete(FrontierKeys(queue_key).seeding)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Requests travel as JSON, not pickle: whoever can write to Redis must not run code in workers.
def encode(obj: dict[str, Any]) -> bytes:
    """Encode a request dict (Request.to_dict) as JSON, bytes and bytes keys tagged."""
    return json.dumps(_pack(obj), separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, Any]:
    """Decode what encode produced."""
    return _unpack(json.loads(data))  # type: ignore[no-any-return]


def _pack(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: _pack(item) for key, item in value.items()}
        return {"$d": [[_pack(key), _pack(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_pack(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} in the shared frontier")


def _unpack(value: Any) -> Any:
    if isinstance(value, list):
        return [_unpack(item) for item in value]
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$d" in value:
            return {_unpack(key): _unpack(item) for key, item in value["$d"]}
        return {key: _unpack(item) for key, item in value.items()}
    return value
