"""Issued cards of concurrent calls share a commit; each call still returns only once its cards are stored."""

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_service.ops.answers import GroupCommit
from cds_service.store.issued import IssuedCard


class SlowStore:
    def __init__(self, fail: bool = False) -> None:
        self.commits: list[list[str]] = []
        self.fail = fail
        self.lock = threading.Lock()
        self.busy = threading.Event()  # a commit has started
        self.gate = threading.Event()  # cleared by a test: commits wait until it is set again
        self.gate.set()

    def record(self, cards: list[IssuedCard]) -> None:
        self.busy.set()
        self.gate.wait()
        time.sleep(0.05)  # a commit
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.commits.append([c.card_uuid for c in cards])


def card(uuid: str) -> IssuedCard:
    return IssuedCard(uuid, "her2-patient-view", ("T3",), "info", datetime.now(UTC), "2026-12-01+000000000000")


def test_concurrent_calls_share_commits_and_wait_for_their_own() -> None:
    store = SlowStore()

    async def main() -> list[bool]:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]

        async def call(n: int) -> bool:
            await group.record([card(f"c{n}a"), card(f"c{n}b")])
            committed = {uuid for commit in store.commits for uuid in commit}
            return {f"c{n}a", f"c{n}b"} <= committed

        return await asyncio.gather(*(call(n) for n in range(20)))

    assert all(asyncio.run(main()))
    assert sorted(uuid for commit in store.commits for uuid in commit) == sorted(
        f"c{n}{x}" for n in range(20) for x in "ab"
    )
    assert len(store.commits) == 1  # calls that finish in the same turn of the loop share the first commit


def test_calls_arriving_during_a_commit_share_the_next_one() -> None:
    store = SlowStore()

    store.gate.clear()

    async def main() -> None:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]
        first = asyncio.create_task(group.record([card("first")]))
        while not store.busy.is_set():  # the first commit is under way (held at the gate)
            await asyncio.sleep(0.001)
        later = [asyncio.create_task(group.record([card(f"later{n}")])) for n in range(5)]
        await asyncio.sleep(0)  # they are waiting now
        store.gate.set()
        await asyncio.gather(first, *later)

    asyncio.run(main())
    assert store.commits == [["first"], [f"later{n}" for n in range(5)]]


def test_a_write_that_outlives_its_event_loop_does_not_stop_the_writer() -> None:
    """A loop that closed while its batch was written (a test's app, a worker stopping) cannot be woken; the
    writer thread, shared by the process, goes on with the next loop's writes."""
    store = SlowStore()
    store.gate.clear()

    async def abandon() -> None:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]
        asyncio.get_running_loop().create_task(group.record([card("abandoned")]))
        while not store.busy.is_set():
            await asyncio.sleep(0.001)

    async def record_again() -> None:
        await GroupCommit(store, asyncio.get_running_loop()).record([card("next")])  # type: ignore[arg-type]

    asyncio.run(abandon())  # returns while "abandoned" is still being written (held at the gate)
    store.gate.set()
    asyncio.run(record_again())
    assert store.commits == [["abandoned"], ["next"]]


def test_a_failed_commit_reaches_every_call_waiting_on_it() -> None:
    async def main() -> list[Any]:
        group = GroupCommit(SlowStore(fail=True), asyncio.get_running_loop())  # type: ignore[arg-type]
        return await asyncio.gather(*(group.record([card(f"c{n}")]) for n in range(5)), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, OSError) for r in results)


def test_the_group_writes_again_after_a_quiet_spell() -> None:
    store = SlowStore()

    async def main() -> None:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]
        await group.record([card("first")])
        await group.record([card("second")])

    asyncio.run(main())
    assert store.commits == [["first"], ["second"]]


@pytest.mark.parametrize("calls", [1, 3])
def test_a_cancelled_call_does_not_break_the_others(calls: int) -> None:
    store = SlowStore()

    async def main() -> None:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]
        gone = asyncio.create_task(group.record([card("gone")]))
        others = [asyncio.create_task(group.record([card(f"k{n}")])) for n in range(calls)]
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(*others)

    asyncio.run(main())
    assert {f"k{n}" for n in range(calls)} <= {uuid for commit in store.commits for uuid in commit}


def test_a_batch_the_writer_thread_cannot_take_fails_its_calls_and_the_next_batch_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread that cannot be started (memory, ulimit) fails the calls of that batch; it must not leave the group
    believing a batch is in flight, which would make every later call wait out its deadline."""
    from cds_service.ops import answers

    store = SlowStore()
    real_submit = answers.WRITER.submit
    refused = []

    def submit_once_refused(job: Any) -> None:
        if not refused:
            refused.append(job)
            raise RuntimeError("can't start new thread")
        real_submit(job)

    monkeypatch.setattr(answers.WRITER, "submit", submit_once_refused)

    async def main() -> list[Any]:
        group = GroupCommit(store, asyncio.get_running_loop())  # type: ignore[arg-type]
        first = await asyncio.wait_for(asyncio.gather(group.record([card("refused")]), return_exceptions=True), 5)
        later = await asyncio.wait_for(group.record([card("later")]), 5)
        return [*first, later]

    refused_result, later_result = asyncio.run(main())
    assert isinstance(refused_result, RuntimeError)
    assert later_result is None
    assert store.commits == [["later"]]


def test_a_write_interrupted_by_a_base_exception_still_wakes_its_calls() -> None:
    class Interrupted(SlowStore):
        def record(self, cards: list[IssuedCard]) -> None:
            raise SystemExit(1)  # not an Exception: before, the batch's calls would never have been woken

    async def main() -> list[Any]:
        group = GroupCommit(Interrupted(), asyncio.get_running_loop())  # type: ignore[arg-type]
        calls = (group.record([card(f"c{n}")]) for n in range(3))
        return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)

    results = asyncio.run(main())
    assert [type(r) for r in results] == [RuntimeError] * 3
    assert all("interrupted" in str(r) for r in results)
