"""The serving process's garbage-collector tuning, and the collector's metrics."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tokenry.observe.metrics import Metrics
from tokenry.runtime import MIDDLE, OLDEST, YOUNG, tune_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_start_up_heap_is_frozen_and_young_collections_are_rarer(
        restored_collector: None) -> None:
    gc.unfreeze()
    tune_garbage_collector()
    assert gc.get_freeze_count() > 10_000  # the test process's modules, at least
    assert gc.get_threshold() == (YOUNG, MIDDLE, OLDEST)

    class Node:
        other: object = None

    first, second = Node(), Node()  # a cycle made after the freeze is still collected
    first.other, second.other = second, first
    del first, second
    assert gc.collect() >= 2


def test_collections_are_in_the_metrics() -> None:
    collections = Metrics().registry.get_sample_value("python_gc_collections_total",
                                               {"generation": "2"})
    assert collections is not None
