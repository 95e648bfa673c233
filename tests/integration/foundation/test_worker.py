from saq.job import Status

from tests.support.processes import worker_process
from worker.jobs import ECHO
from worker.queue import enqueue, make_queue


async def test_worker_runs_jobs_retries_and_records_final_failures(settings, stores):
    queue = make_queue(settings)
    try:
        with worker_process(settings):
            ok = await enqueue(queue, ECHO, value={"hello": "world"})
            flaky = await enqueue(queue, ECHO, value=2, fail_times=2, retry_delay=0.05)
            doomed = await enqueue(queue, ECHO, value=3, fail_times=99, retries=2, retry_delay=0.05)

            # refresh(until_complete=...) waits on saq's own completion notification.
            await ok.refresh(until_complete=30)
            assert ok.status == Status.COMPLETE
            assert ok.result == {"value": {"hello": "world"}, "attempts": 1}

            await flaky.refresh(until_complete=30)
            assert flaky.status == Status.COMPLETE
            assert flaky.result["attempts"] == 3

            await doomed.refresh(until_complete=30)
            assert doomed.status == Status.FAILED
            # The final failure is recorded where an operator can see and replay it. The worker
            # writes it right after the job's status flips, so wait for the record, bounded.
            import asyncio

            for _ in range(100):
                record = await stores.db.failed_jobs.find_one({"job_key": doomed.key})
                if record:
                    break
                await asyncio.sleep(0.05)
            assert record is not None
            assert record["function"] == "echo" and record["attempts"] == 2
            assert "echo asked to fail" in record["error"]
    finally:
        await queue.disconnect()


async def test_idempotent_enqueue_by_key(settings):
    queue = make_queue(settings)
    try:
        first = await enqueue(queue, ECHO, key="same-key", value=1)
        second = await enqueue(queue, ECHO, key="same-key", value=1)
        assert first is not None and second is None
    finally:
        await queue.disconnect()
