"""Bounded per-group state: the memory a streaming rule may use, and how it is given back.

Each rule keeps one small state per group key (a user, a session, an agent) in an LRU map with a
cap: a flood of new keys evicts the least recently seen ones (counted, so an operator sees it)
instead of growing without bound. Keys whose newest event has left every window are expired from
the cold end, which is cheap because the map is already in last-seen order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar


class HasNewest(Protocol):
    newest: float


StateT = TypeVar("StateT", bound=HasNewest)


class KeyedState(Generic[StateT]):
    """Group key -> state, least recently touched first, at most ``cap`` keys."""

    __slots__ = ("_items", "cap", "evictions")

    def __init__(self, cap: int) -> None:
        self._items: OrderedDict[tuple[str, ...], StateT] = OrderedDict()
        self.cap = cap
        self.evictions = 0

    def touch(self, key: tuple[str, ...], factory: Callable[[], StateT]) -> StateT:
        items = self._items
        state = items.get(key)
        if state is None:
            if len(items) >= self.cap:
                items.popitem(last=False)
                self.evictions += 1
            state = items[key] = factory()
        else:
            items.move_to_end(key)
        return state

    def get(self, key: tuple[str, ...]) -> StateT | None:
        return self._items.get(key)

    def pop(self, key: tuple[str, ...]) -> None:
        self._items.pop(key, None)

    def expire(self, horizon: float) -> int:
        """Drop keys, coldest first, whose newest event is older than ``horizon``.

        Stops at the first key still in use: events arrive in near time order, so the cold end of
        the map is also the oldest in event time; a straggler touched late is expired on a later
        sweep or evicted by the cap.
        """
        items = self._items
        dropped = 0
        while items:
            key, state = next(iter(items.items()))
            if state.newest >= horizon:
                break
            del items[key]
            dropped += 1
        return dropped

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> Iterator[StateT]:
        return iter(self._items.values())
