"""Order queued shot requests so adapter switches are rare but nobody starves.

Serving the same adapter back to back saves a switch (and lets requests share one batched
pipeline call); strictly grouping, though, would let a big batch from one workspace delay
everybody else. ``plan`` keeps serving the current adapter only while the oldest waiting
request has been overtaken fewer than ``fairness`` times; then it switches to the oldest
request's adapter. So every request starts within ``fairness`` services of becoming the
oldest, whatever the mix. Pure function: no clock, no I/O.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QueuedShot:
    id: Any
    adapter: Hashable | None  # AdapterRef name; None = base model
    workspace_id: int | None = None


def plan(queue: Sequence[QueuedShot], *, fairness: int = 8, active: Hashable | None = None,
         max_batch: int = 4) -> list[list[QueuedShot]]:
    """Batches (same adapter each, at most ``max_batch``) in the order to run them."""
    waiting = list(range(len(queue)))  # arrival positions still queued, oldest first
    batches: list[list[QueuedShot]] = []
    carried = 0  # times the current oldest has already been overtaken
    current = active
    while waiting:
        batch = _take(queue, waiting, current, max_batch, fairness, carried) if carried < fairness else []
        if not batch:  # bound reached (or nothing for the current adapter): serve the oldest
            current = queue[waiting[0]].adapter
            batch = _take(queue, waiting, current, max_batch, fairness, carried)
        oldest = waiting[0]
        waiting = [i for i in waiting if i not in batch]
        if waiting:
            nxt = waiting[0]
            carried = (carried if nxt == oldest else 0) + sum(1 for i in batch if i > nxt)
        batches.append([queue[i] for i in batch])
    return batches


def _take(queue, waiting, adapter, max_batch, fairness, carried) -> list[int]:
    """The longest arrival-ordered run of ``adapter`` requests that keeps the next oldest
    waiting request within its overtaking budget. The oldest request itself always fits."""
    batch: list[int] = []
    for i in (i for i in waiting if queue[i].adapter == adapter):
        if len(batch) >= max_batch:
            break
        trial = batch + [i]
        rest = [j for j in waiting if j not in trial]
        if rest:
            nxt = rest[0]
            over = (carried if nxt == waiting[0] else 0) + sum(1 for j in trial if j > nxt)
            if over > fairness:
                break
        batch = trial
    return batch


def switches(batches: list[list[QueuedShot]], *, active: Hashable | None = None) -> int:
    count, current = 0, active
    for batch in batches:
        if batch[0].adapter != current:
            count, current = count + 1, batch[0].adapter
    return count
