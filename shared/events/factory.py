"""Redis streams where the installation has Redis (`settings.effective_redis_url`), the database
table otherwise: both sides of the platform pick the same store from the same settings."""

from __future__ import annotations

from shared.config import Settings
from shared.events.store import EventFeed, EventPublisher


def make_event_publisher(settings: Settings) -> EventPublisher:
    url = settings.effective_redis_url
    if url:
        from shared.events.redis_store import RedisEventPublisher

        return RedisEventPublisher(url, settings.events_max_per_task, settings.events_retention_s)
    from shared.events.db_store import DbEventPublisher

    return DbEventPublisher(settings.database_url, settings.database_pool_size)


def make_event_feed(settings: Settings) -> EventFeed:
    url = settings.effective_redis_url
    if url:
        from shared.events.redis_store import RedisEventFeed

        return RedisEventFeed(url)
    from shared.events.db_store import DbEventFeed

    return DbEventFeed(settings.database_url, settings.database_pool_size, settings.events_poll_s)
