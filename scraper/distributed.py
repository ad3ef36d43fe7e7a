"""Distributed crawl: scrapy-redis' scheduler on the reliable frontier (scraper.frontier).

With [crawl] redis_url set, every crawler process ("worker") on any machine shares one
frontier per spider. A worker pops a request only when it has a free download slot, holds
it until Scrapy has handled it completely, then acknowledges it; a heartbeat says it lives.
A worker that stops heartbeating (killed, frozen, cut off) has its held requests put back
for the others. Only the seeding worker reads the sources' feeds, sitemaps and section
pages, and their article URLs go to the shared frontier, where the shared dupe filter lets
each through once. An idle worker waits for work; it stops once the whole frontier (queue,
every worker's held requests, pending seeds) has been empty for BRIEFING_IDLE_TIMEOUT
seconds, or never when that is 0.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from redis import Redis, RedisError
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.misc import load_object
from scrapy.utils.request import request_from_dict
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from briefing.network import redact_url
from scraper.frontier import ReliableQueue, announce_seeding, decode, encode, seeded

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)
PREFIX = "BRIEFING_REDIS_PREFIX"  # Redis key prefix: one per deployment (or per test)
SEED = "BRIEFING_SEED"  # does this worker read the start requests?
IDLE_TIMEOUT = "BRIEFING_IDLE_TIMEOUT"  # seconds of empty frontier before stopping; 0: never
WORKER_TIMEOUT = "BRIEFING_WORKER_TIMEOUT"  # heartbeat expiry: a silent worker is dead after it
WORKER_ID = "BRIEFING_WORKER_ID"
SEEN_HOURS = "BRIEFING_SEEN_HOURS"  # how long the shared dupe filter remembers a URL
TICK_SECONDS = 0.5  # how often held requests are acknowledged and the engine woken
STALL_SECONDS = 300.0  # a reactor that has not ticked for this long is hung


def queue_key_template(prefix: str) -> str:
    """Return SCHEDULER_QUEUE_KEY for prefix (scrapy-redis fills in the spider's name)."""
    return f"{prefix}:%(spider)s:requests"


def announce_seeds(redis_url: str, prefix: str, spiders: list[str], seconds: int = 120) -> None:
    """Before starting workers: mark seeds as coming, so no helper stops before they arrive."""
    server = Redis.from_url(redis_url, socket_connect_timeout=5)
    try:
        for name in spiders:
            announce_seeding(server, queue_key_template(prefix) % {"spider": name}, seconds)
    finally:
        server.close()


def check_redis(redis_url: str) -> None:
    """Raise ConnectionError (with the reason) unless Redis answers at redis_url."""
    server = Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        server.ping()
    except RedisError as exc:
        raise ConnectionError(f"cannot reach Redis at {redact_url(redis_url)}: {exc}") from None
    finally:
        server.close()


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class SeedingGate:
    """Pass the spider's start requests (feeds, sitemaps, sections) only on the seeding worker."""

    def __init__(self, seed: bool) -> None:
        self.seed = seed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedingGate:
        return cls(crawler.settings.getbool(SEED, True))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if self.seed:
            async for item_or_request in start:
                yield item_or_request


class DistributedScheduler(Scheduler):
    """scrapy-redis' scheduler and dupe filter over a queue that loses nothing to a dead worker."""

    crawler: Crawler
    queue: ReliableQueue  # type: ignore[assignment]
    df: Any

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedScheduler:
        instance = super().from_crawler(crawler)
        instance.setup(crawler)
        return instance  # type: ignore[no-any-return]

    def setup(self, crawler: Crawler) -> None:
        settings: BaseSettings = crawler.settings
        self.crawler = crawler
        self.worker = settings.get(WORKER_ID) or default_worker_id()
        self.seed = settings.getbool(SEED, True)
        self.idle_timeout = settings.getfloat(IDLE_TIMEOUT, 5.0)
        self.worker_timeout = settings.getfloat(WORKER_TIMEOUT, 30.0)
        self.held: dict[str, Request] = {}
        self.drained_since: float | None = None
        self.next_rescue = 0.0
        self.last_tick = time.monotonic()
        self.seeds_pushed = False
        self.ticker = LoopingCall(self.tick)
        self.stopping = threading.Event()
        self.heart = threading.Thread(target=self.heartbeat, name="frontier-heartbeat", daemon=True)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        key = self.queue_key % {"spider": spider.name}
        self.queue = ReliableQueue(self.server, key, self.worker)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if not hasattr(getattr(self.crawler.engine, "_slot", None), "inprogress"):
            log.error("this Scrapy hides its requests in progress: a killed worker may lose some")
        self.queue.heartbeat(self.heartbeat_ms)
        self.heart.start()
        if len(self.queue):
            log.info("%s: joining a frontier of %d requests", spider.name, len(self.queue))
        self.crawler.signals.connect(self.on_idle, signal=signals.spider_idle)
        self.ticker.start(TICK_SECONDS, now=False)

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        self.stopping.set()
        if self.heart.is_alive():
            self.heart.join(timeout=10)  # before release: no heartbeat may follow it
        self.acknowledge_finished()
        returned = self.queue.release()  # on a graceful stop Scrapy has finished them all
        if returned:
            log.warning("returned %d unfinished requests to the frontier", returned)
        if self.seed and not self.seeds_pushed:
            seeded(self.server, self.queue.keys.queue)  # nobody should wait for our seeds

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(encode(request.to_dict(spider=self.spider)), request.priority)
        self.crawler.stats.inc_value("scheduler/enqueued/redis")
        if self.seed and not self.seeds_pushed:
            self.seeds_pushed = True
            seeded(self.server, self.queue.keys.queue)
        return True

    def next_request(self) -> Request | None:
        while (popped := self.queue.pop()) is not None:
            token, data = popped
            try:
                request = request_from_dict(decode(data), spider=self.spider)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                log.error("dropped an unreadable request from the frontier: %s", exc)
                self.queue.ack([token])
                continue
            self.held[token] = request
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
            return request
        return None

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0

    @property
    def heartbeat_ms(self) -> int:
        return int(self.worker_timeout * 1000)

    def tick(self) -> None:
        """Acknowledge finished requests, rescue the dead's requests, and wake the engine."""
        self.last_tick = time.monotonic()
        try:
            self.acknowledge_finished()
            if self.last_tick >= self.next_rescue:
                self.next_rescue = self.last_tick + self.worker_timeout / 4
                rescued = self.queue.requeue_orphans()
                self.crawler.stats.inc_value("frontier/requeued_from_dead_workers", rescued)
        except RedisError as exc:  # a blip must not stop the ticker for good
            log.warning("frontier unreachable for a moment: %s", exc)
            return
        except Exception:  # nor may a bug: a dead ticker would hold its requests for ever
            log.exception("frontier upkeep failed")
            return
        _wake_engine(self.crawler)

    def heartbeat(self) -> None:
        """Thread: say we live, as long as the reactor does.

        A thread, so that a page that keeps the reactor busy for seconds does not make the
        worker look dead; but a reactor that has not ticked for STALL_SECONDS is hung, and
        the heartbeat stops so that the others take over its requests.
        """
        was_hung = False
        while not self.stopping.wait(self.worker_timeout / 4):
            hung = time.monotonic() - self.last_tick > STALL_SECONDS
            if hung and not was_hung:
                log.error(
                    "no progress for %.0f s: heartbeat stopped, others take over", STALL_SECONDS
                )
            was_hung = hung
            if hung:
                continue
            try:
                self.queue.heartbeat(self.heartbeat_ms)
            except RedisError as exc:
                log.warning("heartbeat failed: %s", exc)

    def acknowledge_finished(self) -> None:
        """Acknowledge every held request the engine has finished with."""
        busy = _engine_requests(self.crawler)
        done = [token for token, request in self.held.items() if request not in busy]
        if done:
            self.queue.ack(done)
            for token in done:
                del self.held[token]

    def on_idle(self, spider: Spider) -> None:
        """Keep an idle worker open while the frontier has work, or until idle_timeout."""
        self.acknowledge_finished()
        if self.queue.busy():
            self.drained_since = None
            raise DontCloseSpider
        if self.idle_timeout <= 0:
            raise DontCloseSpider
        now = time.monotonic()
        self.drained_since = self.drained_since or now
        if now - self.drained_since < self.idle_timeout:
            raise DontCloseSpider
        log.info("%s: frontier drained for %.0f s; stopping", spider.name, self.idle_timeout)


# Scrapy has no public hook for "the engine has finished with this request": its engine
# keeps every request taken from the scheduler in _slot.inprogress until the response is
# parsed, its items have been through the pipelines and its follow-ups are scheduled (or
# until a redirect or retry is scheduled instead). Both private uses are kept here.
def _engine_requests(crawler: Crawler) -> set[Request]:
    slot = getattr(crawler.engine, "_slot", None)
    return getattr(slot, "inprogress", set())


def _wake_engine(crawler: Crawler) -> None:
    """Make the engine ask for requests now rather than at its 5 s heartbeat."""
    slot = getattr(crawler.engine, "_slot", None)
    if slot is not None and slot.closing is None:
        slot.nextcall.schedule()
