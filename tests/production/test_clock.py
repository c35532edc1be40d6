"""The clock seam: ManualClock records sleeps, run_virtual runs timers in order at no wall cost."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys

import pytest

from llmprep.production.clock import (
    LOOP_CLOCK,
    Clock,
    DeadlockError,
    LoopClock,
    ManualClock,
    run_virtual,
)


def test_manual_clock_sleep_advances_and_records() -> None:
    clock = ManualClock(start=10.0)

    async def main() -> None:
        await clock.sleep(2.5)
        await clock.sleep(0)

    asyncio.run(main())
    clock.advance(1.0)
    assert clock.now() == 13.5
    assert clock.sleeps == [2.5, 0.0]
    assert isinstance(clock, Clock)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "1", True])
def test_negative_or_non_numeric_sleeps_are_rejected_by_value(bad: object) -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match=r"seconds|negative"):
        clock.advance(bad)  # type: ignore[arg-type]


def test_loop_clock_outside_a_loop_is_monotonic() -> None:
    first = LOOP_CLOCK.now()
    assert LoopClock().now() >= first


def test_an_hour_of_virtual_sleep_takes_no_wall_time() -> None:
    async def main() -> tuple[float, str]:
        result = await asyncio.sleep(3600, result="done")
        return LOOP_CLOCK.now(), result

    # The loop's own clock reads exactly 3600.0: on a real loop it would read some large
    # monotonic time after an hour's wait. (No wall-clock bound: the machine may be loaded.)
    assert run_virtual(main()) == (3600.0, "done")


def test_ten_thousand_concurrent_sleeps_finish_in_virtual_time_order() -> None:
    rng = random.Random(7)
    delays = [rng.uniform(0, 100) for _ in range(10_000)]
    finished: list[tuple[float, float]] = []  # (virtual time at wake-up, asked delay)

    async def sleeper(delay: float) -> None:
        await asyncio.sleep(delay)
        finished.append((LOOP_CLOCK.now(), delay))

    async def main() -> float:
        await asyncio.gather(*(sleeper(d) for d in delays))
        return LOOP_CLOCK.now()

    total = run_virtual(main())
    assert [d for _, d in finished] == sorted(delays)  # woken in deadline order
    assert all(abs(at - d) < 1e-6 for at, d in finished)  # each at its own deadline
    assert total == pytest.approx(max(delays))


def test_timeouts_fire_in_virtual_time() -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(60), timeout=5)
        return LOOP_CLOCK.now()

    assert run_virtual(main()) == pytest.approx(5.0)


def test_real_io_still_works_under_virtual_time() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    async def main() -> bytes:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        async with server:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"ping\n")
            await writer.drain()
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return line

    assert run_virtual(main()) == b"ping\n"


def test_a_deadlock_raises_instead_of_hanging() -> None:
    async def wait_forever() -> None:
        await asyncio.Event().wait()  # nobody will ever set it, and no timer is pending

    with pytest.raises(DeadlockError, match="no timer is pending"):
        run_virtual(wait_forever(), idle_limit=0.01)


def test_work_in_a_thread_still_wakes_the_virtual_loop() -> None:
    async def main() -> str:
        # the loop has no timers while the thread runs, so it waits for the thread in real time
        return await asyncio.to_thread(lambda: "done")

    assert run_virtual(main(), idle_limit=5.0) == "done"


def test_run_virtual_starts_at_zero_each_time() -> None:
    async def now() -> float:
        await asyncio.sleep(1)
        return LOOP_CLOCK.now()

    assert run_virtual(now()) == run_virtual(now()) == 1.0


def test_the_package_imports_light_and_serves_every_exported_name() -> None:
    # A fresh interpreter: numpy, MiniLM and OpenTelemetry load only when a name needs them.
    code = (
        "import sys, llmprep.production as p; "
        "heavy = [m for m in ('numpy', 'opentelemetry') if m in sys.modules]; "
        "missing = [n for n in p.__all__ if not hasattr(p, n)]; "
        "print(heavy, missing)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[] []"
    import llmprep.production as package

    assert package.retry.__module__ == "llmprep.production.retry"
    assert len(package.__all__) == len(set(package.__all__))
    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # noqa: B018
