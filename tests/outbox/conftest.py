from __future__ import annotations

import pytest

from onething.core.registry import Registry
from onething.outbox.registry import Topic
from tests.outbox.receiver import Receiver


@pytest.fixture
def registry() -> Registry[Topic]:
    """A registry of its own for each test, so the global one is never touched."""
    return Registry("outbox topic")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running
