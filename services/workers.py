"""Background workers of one process: the projection feed, and with Kafka the relay and the
view consumers.  ``serve`` starts them beside the API; ``relay`` and ``project`` run them alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial

from ingest.intake import IntakePublisher, KafkaIntakeWorker, LocalIntakeWorker
from ingest.kafka_transport import KafkaTransport
from ingest.relay import Relay
from projections.kafka_feed import KafkaFeed
from projections.log_feed import LogFeedWorker
from services.erasure_watch import ErasureWatch
from services.runtime import Runtime

log = logging.getLogger("trainledger.workers")


class Workers:
    def __init__(self, rt: Runtime, relay: bool = True, views: Iterable[str] | None = None,
                 log_feed: bool = True, intake: bool = True) -> None:
        """``relay``: publish events (and import requests); ``views``: feed these views from
        Kafka (default all); ``log_feed``: keep in-process views current; ``intake``: apply
        import requests (from the intake topic with Kafka, else from the database)."""
        self.rt = rt
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.log_feed: LogFeedWorker | None = None
        names = list(rt.views) if views is None else list(views)
        unknown = set(names) - set(rt.views)
        if unknown:
            raise ValueError(f"unknown view {sorted(unknown)[0]!r}; views: {', '.join(rt.views)}")
        bootstrap = rt.settings.kafka_bootstrap
        if log_feed:
            self.log_feed = LogFeedWorker(rt.feed)
            rt.app.on_saved.append(self.log_feed.wake.set)
        if bootstrap and relay:
            wake = threading.Event()
            rt.app.on_saved.append(wake.set)
            relay_worker = Relay(rt.app, rt.tables, rt.keys, bootstrap, rt.settings.events_topic)
            self._thread("relay", partial(relay_worker.run, self.stop_event, wake))
            publisher = IntakePublisher(rt.imports, bootstrap, rt.settings.intake_topic)
            self._thread("intake-publisher", partial(publisher.run, self.stop_event))
        if intake and bootstrap:
            intake_worker = KafkaIntakeWorker(rt.intake, bootstrap, rt.settings.intake_topic)
            self._thread("intake", partial(intake_worker.run, self.stop_event))
        elif intake:
            self.threads.append(LocalIntakeWorker(rt.intake, self.stop_event))
        if bootstrap:
            transport = KafkaTransport(bootstrap, rt.keys)
            for name in names:
                feed = KafkaFeed(rt.app, rt.tables, transport, rt.views[name],
                                 rt.settings.events_topic, rt.settings.projection_group,
                                 ErasureWatch(rt.keys, rt.tables, [rt.views[name]]))
                self._thread(f"project-{name}", partial(feed.run, self.stop_event))

    def _thread(self, name: str, target: Callable[[], None]) -> None:
        self.threads.append(threading.Thread(target=target, name=name, daemon=True))

    def start(self) -> Workers:
        if self.log_feed is not None:
            self.log_feed.start()
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.rt.imports.submitted.set()
        if self.log_feed is not None:
            self.log_feed.stop()
        for thread in self.threads:
            thread.join(timeout=15)
