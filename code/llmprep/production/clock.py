"""The clock seam: every wait in the production package goes through a `Clock`.

Retries, rate limiters and circuit breakers are all about time: wait 0.5 s, refill 10 tokens
a second, stay open for 30 s. Code that calls `time.monotonic()` and `asyncio.sleep()`
directly can only be tested by waiting for real, so its tests are slow and flaky. Code that
takes a `Clock` can be tested in three ways:

    LoopClock     the running event loop's clock (real time in production)
    ManualClock   a test clock: `sleep` returns at once and moves `now` forward
    run_virtual   a whole event loop on virtual time: when nothing is ready to run, time
                  jumps straight to the next timer, so `asyncio.sleep`, `wait_for` and
                  timeouts cost no wall time and every run orders events the same way

`run_virtual` is what lets the load simulation push thousands of concurrent requests, each
waiting on simulated network latency, through in a second or two of wall time.

A deadlock (every task waiting, no timer pending) raises `DeadlockError` after `IDLE_LIMIT`
real seconds in which no thread woke the loop, instead of hanging.

Leaves out: threads (work handed to an executor runs in real time while the loop's time
stands still or jumps), wall-clock dates (use `datetime` for those) and clock skew between
machines.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike


@runtime_checkable
class Clock(Protocol):
    """Monotonic seconds (`now`) and a way to wait (`sleep`)."""

    def now(self) -> float:
        """Seconds on a monotonic clock: only differences mean anything."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (0 or more)."""
        ...


def _check_seconds(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds:
        raise ValueError(f"seconds must be a number, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"cannot sleep a negative time, got {seconds!r}")
    return float(seconds)


class LoopClock:
    """The running event loop's clock: real time normally, virtual time under `run_virtual`.

    Why the loop's clock and not `time.monotonic()`: `asyncio.sleep` schedules its wake-up on
    `loop.time()`, so reading the same clock keeps `now` and `sleep` consistent, and under a
    virtual loop both become virtual for free.
    """

    def now(self) -> float:
        """`loop.time()` of the running loop, or `time.monotonic()` outside any loop."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """`asyncio.sleep(seconds)`."""
        await asyncio.sleep(_check_seconds(seconds))


LOOP_CLOCK: Final = LoopClock()


class ManualClock:
    """A clock for tests: `sleep` records the wait and moves time forward at once.

    Example:
        clock = ManualClock()
        await clock.sleep(2.5); clock.advance(1.0)
        clock.now() == 3.5 and clock.sleeps == [2.5]
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The current (manual) time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Record `seconds`, advance time by it, and yield to the loop once (like sleep(0))."""
        seconds = _check_seconds(seconds)
        self.sleeps.append(seconds)
        self._now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass without anyone sleeping (time moves on outside the code)."""
        self._now += _check_seconds(seconds)


type _Ready = list[tuple[selectors.SelectorKey, int]]

IDLE_LIMIT: Final = 60.0
"""Real seconds a virtual loop with no timers waits for another thread before it gives up."""


class DeadlockError(RuntimeError):
    """Every task is waiting, no timer is pending and no thread woke the loop in time."""


class _VirtualSelector(selectors.BaseSelector):
    """A real selector that never blocks while timers are pending: it moves time instead.

    The event loop calls `select(timeout)` with the time until its next timer (or 0 if work
    is ready, or None if there is nothing to wait for). We poll the real selector without
    waiting; if nothing happened, we advance the loop's virtual clock by `timeout`, so the
    loop finds its next timer due at once.
    """

    def __init__(self, loop: VirtualEventLoop, idle_limit: float) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop
        self._idle_limit = idle_limit

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> _Ready:
        """Poll without waiting; if nothing is ready, advance virtual time by `timeout`."""
        if timeout is None:  # no timers: only another thread can wake us, so wait for it
            ready = self._inner.select(self._idle_limit)
            if not ready:
                raise DeadlockError(
                    "virtual time cannot move: no timer is pending and nothing woke "
                    f"the loop for {self._idle_limit:g} s of real time (tasks waiting "
                    "on each other, or on an event nobody sets)"
                )
            return ready
        ready = self._inner.select(0)
        if not ready and timeout > 0:
            self._loop.advance(timeout)
        return ready

    def close(self) -> None:
        self._inner.close()

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._inner.get_map()


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """An event loop whose `time()` is a counter that starts at 0 and jumps between timers."""

    def __init__(self, idle_limit: float = IDLE_LIMIT) -> None:
        self._virtual_now = 0.0
        super().__init__(_VirtualSelector(self, _check_seconds(idle_limit)))

    def time(self) -> float:
        """Virtual seconds since the loop was made."""
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (the selector does this when the loop would wait)."""
        self._virtual_now += _check_seconds(seconds)


def run_virtual[T](
    main: Coroutine[Any, Any, T],
    *,
    idle_limit: float = IDLE_LIMIT,
) -> T:
    """Run `main` to completion on a fresh `VirtualEventLoop`; return its result.

    Like `asyncio.run`, it closes the loop afterwards, cancelling tasks still running and
    finalising async generators. Virtual time starts at 0; read it with
    `asyncio.get_running_loop().time()` or `LOOP_CLOCK.now()` inside `main`.

    Why it works: an event loop with nothing ready asks its selector to block until the next
    timer. Blocking is exactly the wall time we do not want to spend, so the selector moves
    the clock instead. Ordering stays deterministic: timers fire in the order of their
    virtual deadlines, as they would in real time.

    A deadlock (every task waiting, no timer pending) would block a real loop forever; here
    it raises `DeadlockError` once no thread has woken the loop for `idle_limit` real seconds,
    which leaves time for work handed to a thread (`asyncio.to_thread`) to finish.

    Example: run_virtual(asyncio.sleep(3600, result="done")) returns "done" at once.
    """
    with asyncio.Runner(loop_factory=lambda: VirtualEventLoop(idle_limit)) as runner:
        return runner.run(main)
