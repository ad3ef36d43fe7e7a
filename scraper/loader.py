"""Spider loader: one spider per configured source, so `scrapy list` shows the sources."""

from __future__ import annotations

import builtins
import logging
from typing import TYPE_CHECKING

from briefing.config import Config, ConfigError, SourceConfig
from scraper.addon import config_from_settings
from scraper.spiders import SITE_SPIDERS, SourceSpider

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)


def spider_class(source: SourceConfig) -> type[SourceSpider]:
    """Return a spider class for source: its site spider if it names one, else the generic."""
    base = SITE_SPIDERS.get(source.spider or source.name, SourceSpider)
    if source.spider and source.spider not in SITE_SPIDERS:
        raise ConfigError(
            f"sources[{source.name}].spider: no site spider {source.spider!r} "
            f"(available: {', '.join(sorted(SITE_SPIDERS))})"
        )
    return type(f"{base.__name__}_{source.name}", (base,), {"name": source.name, "source": source})


class SourceSpiderLoader:
    """Build spiders from briefing.toml's [[sources]] instead of scanning modules.

    It follows scrapy.spiderloader.SpiderLoaderProtocol (from_settings, load, list,
    find_by_request); Scrapy 2.19 deprecates the zope interface it replaced.
    """

    def __init__(self, config: Config) -> None:
        self._spiders = {
            source.name: spider_class(source) for source in config.sources if source.enabled
        }

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> SourceSpiderLoader:
        try:
            return cls(config_from_settings(settings))
        except ConfigError as exc:  # `scrapy list` without a usable config: one line, exit 1
            raise SystemExit(f"{exc.label}: {exc}") from None

    def load(self, spider_name: str) -> type[Spider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            known = ", ".join(sorted(self._spiders)) or "none"
            raise KeyError(f"Spider not found: {spider_name} (sources: {known})") from None

    def list(self) -> builtins.list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        return [name for name, cls in self._spiders.items() if cls.handles_request(request)]
