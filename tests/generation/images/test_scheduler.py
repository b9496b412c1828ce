"""Adapter-grouped scheduling with a fairness bound."""
from __future__ import annotations

import itertools
import random

from generation.images.bench.scheduler import QueuedShot, plan, switches


def _queue(pattern: str) -> list[QueuedShot]:
    return [QueuedShot(id=i, adapter=a) for i, a in enumerate(pattern)]


def test_mixed_queue_is_grouped_with_fewer_switches():
    queue = _queue("ABCABCABCABC")
    batches = plan(queue, fairness=8, max_batch=4)
    assert sorted(q.id for b in batches for q in b) == list(range(12))  # nothing lost or duplicated
    assert all(len({q.adapter for q in b}) == 1 for b in batches)
    assert switches(batches) == 3 < switches([[q] for q in queue])


def test_continuing_the_active_adapter_avoids_a_switch():
    batches = plan(_queue("BAB"), fairness=8, active="B")
    assert [q.adapter for q in batches[0]] == ["B", "B"]


def test_fairness_bound_holds_for_random_queues():
    """No request is overtaken more than `fairness` times after it becomes the oldest."""
    rng = random.Random(0)
    for fairness, max_batch in itertools.product([1, 3, 8], [1, 2, 4]):
        for _ in range(30):
            queue = _queue("".join(rng.choice("AAAABC") for _ in range(rng.randint(1, 30))))
            order = [q for b in plan(queue, fairness=fairness, max_batch=max_batch, active="A") for q in b]
            for q in queue:
                became_oldest = max([order.index(p) for p in queue if p.id < q.id] + [-1])
                started = order.index(q)
                overtakers = [p for p in order[became_oldest + 1:started] if p.id > q.id]
                assert len(overtakers) <= fairness, (fairness, max_batch, q)


def test_a_big_batch_cannot_starve_another_workspace():
    queue = [QueuedShot(id=i, adapter="big", workspace_id=1) for i in range(40)]
    queue.insert(1, QueuedShot(id=99, adapter="small", workspace_id=2))
    order = [q.id for b in plan(queue, fairness=4, max_batch=4, active="big") for q in b]
    assert order.index(99) <= 5
