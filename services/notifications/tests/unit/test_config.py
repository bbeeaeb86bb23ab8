"""Settings: the shared platform settings under NOTIFICATIONS_*, and the mail topic's own dead-letter topic."""

from __future__ import annotations

import pytest

from notifications.bootstrap import Worker
from notifications.config import Settings


def test_the_mail_topic_dead_letters_to_a_private_topic_by_default() -> None:
    settings = Settings(environment="test")

    assert settings.dead_letter_topics == {"identity.mail.v1": "notifications.mail.dlq"}
    assert "notifications.dlq" not in settings.dead_letter_topics.values()


def test_the_private_dead_letter_topic_follows_the_consumer_name_or_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_CONSUMER_NAME", "ci-notifications")
    assert Settings().dead_letter_topics == {"identity.mail.v1": "ci-notifications.mail.dlq"}

    monkeypatch.setenv("NOTIFICATIONS_MAIL_DEAD_LETTER_TOPIC", "mail.failures")
    assert Settings().dead_letter_topics == {"identity.mail.v1": "mail.failures"}


def test_smtp_connections_default_to_four_and_must_leave_the_pool_room(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(environment="test").smtp_connections == 4

    monkeypatch.setenv("NOTIFICATIONS_SMTP_CONNECTIONS", "8")
    assert Settings(environment="test", pool_max_size=12).smtp_connections == 8
    with pytest.raises(ValueError, match="NOTIFICATIONS_SMTP_CONNECTIONS"):
        Settings(environment="test", pool_max_size=8)


def test_the_worker_sends_over_the_configured_connections_and_bounds_the_fetch_wait() -> None:
    settings = Settings(environment="test", smtp_connections=3, consumer_fetch_max_wait_ms=50)

    worker = Worker(settings, pool=None)  # nothing connects before start()

    assert len(worker.delivery.lanes) == 3
    assert len({id(lane.sender) for lane in worker.delivery.lanes}) == 3  # a connection of its own each
    assert worker.consumer.consumer_options == {"fetch_max_wait_ms": 50}
    assert worker.consumer.batch_size == settings.consumer_batch_size
