"""Scrapy settings for the briefing's spiders; briefing.toml's [crawl] section overrides them.

`scrapy crawl NAME` reads this module through scrapy.cfg; `briefing crawl` starts from it too,
so both behave the same. The add-on (scraper.addon) applies the config file on top.
"""

BOT_NAME = "briefing"
SPIDER_MODULES: list[str] = []  # spiders come from the config's sources, not from modules
SPIDER_LOADER_CLASS = "scraper.loader.SourceSpiderLoader"
ADDONS = {"scraper.addon.BriefingAddon": 0}

ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control runs an HTTP server per crawler that executes Python sent to
# it (token in a job file under the user's state directory): ten sources, ten servers, and
# aiohttp imported into every crawl child. Nothing here uses it.
REMOTE_CONTROL_ENABLED = False
# Scrapy reads the source of every spider callback (inspect + ast) to warn about generators
# that return a value: a tenth of a second a crawl, for a lint the tests do.
WARN_ON_GENERATOR_RETURN_VALUE = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many tasks for every callback's output, even an empty one; an article
# page yields one item and a refused request none, so 100 (the default) is pure overhead.
CONCURRENT_ITEMS = 8
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 5
# Backstop: the spiders bound sitemap nesting and pagination themselves (LinkIntake).
DEPTH_LIMIT = 8
# Every host is resolved through this resolver: private answers only for allowed hosts.
TWISTED_DNS_RESOLVER = "scraper.netguard.GuardedResolver"
RETRY_ENABLED = True
RETRY_TIMES = 2
# 404/403 are answers, not accidents: only server and gateway errors are retried.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
HTTPERROR_ALLOW_ALL = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.SkipStoredUrlsMiddleware": 50,
    # Before robots.txt is fetched for a host, and on every redirect and meta-refresh hop.
    "scraper.netguard.PrivateAddressMiddleware": 60,
    # Scrapy's own robots.txt middleware, with concurrent waiters fixed (see the class).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.middlewares.RobotsTxtMiddleware": 100,
    # Last before the download: only a request about to be fetched waits for its host.
    "scraper.hostlimit.SharedHostLimitMiddleware": 990,
}
SPIDER_MIDDLEWARES = {
    # Scrapy's own, but every link they drop is logged and counted as a skip.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scraper.middlewares.CountedUrlLengthMiddleware": 800,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scraper.middlewares.CountedDepthMiddleware": 900,
}
DUPEFILTER_CLASS = "scraper.middlewares.RedirectAwareDupeFilter"
ITEM_PIPELINES = {
    "scraper.pipelines.ValidatePipeline": 100,
    "scraper.pipelines.CanonicalUrlPipeline": 200,
    "scraper.pipelines.DuplicatePipeline": 300,
    "scraper.pipelines.StorePipeline": 400,
}
LOG_FORMATTER = "scraper.logformatter.BriefingLogFormatter"
