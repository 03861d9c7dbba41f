"""``MicroBatcher``: waiting requests share one call, grouped by question, answers split back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from engage.serving.batching import MicroBatcher


class Recorder:
    """A batch function that answers each row with (row, params) and records its calls."""

    def __init__(self, fail_on: object = None) -> None:
        self.calls: list[tuple[list[object], object]] = []
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, rows: list[object], params: object) -> list[dict[str, object]]:
        with self.lock:
            self.calls.append((list(rows), params))
        if params == self.fail_on:
            raise ValueError(f"bad question {params}")
        return [{"row": row, "params": params} for row in rows]


def run(coro):
    return asyncio.run(coro)


def test_queued_requests_share_one_call_and_get_their_own_answers():
    fn = Recorder()
    sizes: list[int] = []
    batcher = MicroBatcher(fn, max_batch=16, workers=1, on_batch=sizes.append)

    async def main():
        answers = await asyncio.gather(*(batcher.submit("q", [i], "q") for i in range(8)))
        await batcher.stop()
        return answers

    answers = run(main())
    assert answers == [[{"row": i, "params": "q"}] for i in range(8)]
    assert len(fn.calls) == 1 and fn.calls[0][0] == list(range(8))
    assert sizes == [8]


def test_batches_never_exceed_max_batch():
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=3, workers=1)

    async def main():
        answers = await asyncio.gather(*(batcher.submit("q", [i], "q") for i in range(7)))
        await batcher.stop()
        return answers

    answers = run(main())
    assert [a[0]["row"] for a in answers] == list(range(7))
    assert [len(rows) for rows, _ in fn.calls] == [3, 3, 1]


def test_different_questions_are_not_mixed():
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=16, workers=1)

    async def main():
        jobs = [batcher.submit(key, [i], key) for i, key in enumerate("abab")]
        answers = await asyncio.gather(*jobs)
        await batcher.stop()
        return answers

    answers = run(main())
    assert [a[0]["params"] for a in answers] == list("abab")
    assert sorted((params, rows) for rows, params in fn.calls) == [("a", [0, 2]), ("b", [1, 3])]


def test_multi_row_jobs_get_their_slice():
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=16, workers=1)

    async def main():
        answers = await asyncio.gather(
            batcher.submit("q", [1, 2, 3], "q"), batcher.submit("q", [4], "q")
        )
        await batcher.stop()
        return answers

    first, second = run(main())
    assert [a["row"] for a in first] == [1, 2, 3]
    assert [a["row"] for a in second] == [4]


def test_a_failing_question_fails_only_its_own_callers():
    fn = Recorder(fail_on="bad")
    batcher = MicroBatcher(fn, max_batch=16, workers=1)

    async def main():
        results = await asyncio.gather(
            batcher.submit("bad", [1], "bad"),
            batcher.submit("ok", [2], "ok"),
            batcher.submit("bad", [3], "bad"),
            return_exceptions=True,
        )
        await batcher.stop()
        return results

    bad1, ok, bad2 = run(main())
    assert isinstance(bad1, ValueError) and isinstance(bad2, ValueError)
    assert "bad question" in str(bad1)
    assert ok == [{"row": 2, "params": "ok"}]


def test_a_lone_request_is_answered_without_waiting_for_company():
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=16, workers=2)

    async def main():
        answer = await asyncio.wait_for(batcher.submit("q", [1], "q"), timeout=5)
        await batcher.stop()
        return answer

    assert run(main()) == [{"row": 1, "params": "q"}]


def test_a_cancelled_caller_does_not_break_the_batch():
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=16, workers=1)

    async def main():
        gone = asyncio.ensure_future(batcher.submit("q", [1], "q"))
        stays = asyncio.ensure_future(batcher.submit("q", [2], "q"))
        await asyncio.sleep(0)  # both queued
        gone.cancel()
        answer = await asyncio.wait_for(stays, timeout=5)
        await batcher.stop()
        return answer

    assert run(main()) == [{"row": 2, "params": "q"}]


def test_the_batcher_follows_the_event_loop_it_is_called_from():
    """An app driven by several event loops (test clients, a restarted server) keeps answering."""
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=16, workers=1)
    for i in range(2):
        assert run(batcher.submit("q", [i], "q")) == [{"row": i, "params": "q"}]


@pytest.mark.parametrize("bad", [0, -1])
def test_settings_refuse_a_batch_limit_below_one(bad):
    from pydantic import ValidationError

    from engage.serving.settings import ServeSettings

    with pytest.raises(ValidationError, match="microbatch_max"):
        ServeSettings(microbatch_max=bad)
