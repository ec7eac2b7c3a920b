"""Producer → SQS queue → batch function, end to end at volume, across a `kill -9` (issue 16's
"Show"): 10,000 messages sent with SendMessageBatch to a standard queue mapped to a Python batch
function (BatchSize 10, ReportBatchItemFailures), plus 400 messages in four message groups of a
FIFO queue mapped to the same function. The daemon is killed with SIGKILL once about a third of
the standard messages were processed and restarted on the same data directory.

The function reports every batch to a collector on loopback (esm_support), which outlives the
daemon. Asserted: every message processed successfully at least once (nothing lost); batches of
at most 10; `flaky` messages fail once and are retried alone (no message that succeeded is
delivered again, except those of batches the kill caught between the function's answer and the
delete); `poison` messages end in the dead-letter queue after maxReceiveCount (3) receives, and
nothing else does; FIFO order held in each group. Bounded: about 3 minutes at most.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import unique
from esm_support import Collector, collector_daemon, create_batch_function, wait_state
from sqs_support import queue_counts, receive_all, sqs_client

TOTAL = 10_000
FLAKY = {137, 2048, 4099, 5555, 6001, 7777, 8190, 9001, 9500, 9998}
POISON = {404, 3333, 6666, 8888, 9999}
GROUPS, PER_GROUP = 4, 100
KILL_AFTER = 3_000


def body_of(i: int) -> str:
    if i in POISON:
        return f"poison-e2e-{i}"
    if i in FLAKY:
        return f"flaky-e2e-{i}"
    return f"ok-e2e-{i}"


def send_all(d, url: str, entries: list[dict], workers: int = 4, deadline_s: float = 150.0) -> dict[str, str]:
    """Sends `entries` ({"Id", "MessageBody", ...}) in batches of 10 from `workers` threads;
    returns message id -> body. Every entry must be accepted."""
    ids: dict[str, str] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + deadline_s
    chunks = [entries[i:i + 10] for i in range(0, len(entries), 10)]
    local = threading.local()

    def one(chunk):
        assert time.monotonic() < deadline, "sending took too long"
        if not hasattr(local, "sqs"):
            local.sqs = sqs_client(d)
        r = local.sqs.send_message_batch(QueueUrl=url, Entries=chunk)
        assert not r.get("Failed"), r["Failed"]
        by_id = {e["Id"]: e["MessageBody"] for e in chunk}
        with lock:
            for ok in r["Successful"]:
                ids[ok["MessageId"]] = by_id[ok["Id"]]

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, chunks))
    assert len(ids) == len(entries)
    return ids


def successes(batches: list[dict]) -> list[tuple[float, dict]]:
    """(time, record) of every record a batch reported as processed successfully."""
    out = []
    for b in batches:
        if b["boom"]:
            continue
        failed = set(b["failed"])
        out.extend((b["_at"], r) for r in b["records"] if r["id"] not in failed)
    return out


def test_ten_thousand_messages_across_a_kill_9(tmp_path_factory):
    collector = Collector()
    d = collector_daemon(tmp_path_factory.mktemp("e2e"), collector)
    t0 = time.monotonic()
    try:
        lam, sqs = d.client(), sqs_client(d)
        fn = create_batch_function(lam, collector, timeout=5)
        dlq = sqs.create_queue(QueueName=unique("e2e-dlq"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=unique("e2e"), Attributes={
            "VisibilityTimeout": "10",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        furl = sqs.create_queue(QueueName=unique("e2e") + ".fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "10"})["QueueUrl"]
        farn = sqs.get_queue_attributes(QueueUrl=furl, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        # the producers: 10,000 standard messages, 4 × 100 FIFO messages (sent in order per group)
        sent = send_all(d, url, [{"Id": f"m{i % 10}", "MessageBody": body_of(i)} for i in range(TOTAL)])
        fifo_sent: dict[str, str] = {}
        for start in range(0, PER_GROUP, 10):
            for g in range(GROUPS):
                fifo_sent.update(send_all(d, furl, [
                    {"Id": f"f{i}", "MessageBody": f"fifo-e2e-g{g}-{i:03d}", "MessageGroupId": f"g{g}"}
                    for i in range(start, start + 10)], workers=1))
        t_sent = time.monotonic() - t0
        assert queue_counts(sqs, url) == (TOTAL, 0, 0)

        m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10,
                                            FunctionResponseTypes=["ReportBatchItemFailures"])
        fm = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=farn, BatchSize=10)

        def done_ids(snap) -> set[str]:
            return {r["id"] for _, r in successes(snap)}

        collector.wait(lambda s: len(done_ids(s) & sent.keys()) >= KILL_AFTER, 120, f"{KILL_AFTER} processed")
        kill_at = time.monotonic()
        processed_at_kill = len(done_ids(collector.snapshot()) & sent.keys())
        d.crash_restart()
        restarted_at = time.monotonic()
        sqs = sqs_client(d)  # the port changed
        lam = d.client()
        wait_state(lam, m["UUID"], "Enabled")

        good = {mid for mid, b in sent.items() if not b.startswith("poison")}
        poison = {mid for mid, b in sent.items() if b.startswith("poison")}
        collector.wait(lambda s: good <= done_ids(s) and fifo_sent.keys() <= done_ids(s), 150,
                       "every message processed")
        dead = receive_all(sqs, dlq, len(poison), timeout=max(10.0, 200 - (time.monotonic() - t0)))
        t_done = time.monotonic() - t0
        snap = collector.snapshot()
        ok = successes(snap)

        # nothing lost, and the poison messages (only they) are in the DLQ, after 3 receives
        assert good <= {r["id"] for _, r in ok}
        assert sorted(x["MessageId"] for x in dead) == sorted(poison)
        assert sorted(x["Body"] for x in dead) == sorted(f"poison-e2e-{i}" for i in POISON)
        assert not poison & {r["id"] for _, r in ok}
        for mid in poison:
            counts = [r["count"] for b in snap for r in b["records"] if r["id"] == mid]
            assert counts and max(counts) <= 3, (mid, counts)
        # batches of at most 10, one queue each
        assert all(1 <= len(b["records"]) <= 10 for b in snap)
        # flaky messages failed on their first delivery and succeeded on a later one
        for i in FLAKY:
            recs = [(b, r) for b in snap for r in b["records"] if r["body"] == f"flaky-e2e-{i}"]
            assert all(r["id"] in b["failed"] for b, r in recs if r["count"] == 1), recs
            assert any(r["id"] not in b["failed"] and r["count"] >= 2 for b, r in recs), recs
        # retried alone: a message that succeeded is never delivered again, except when its
        # batch was reported before the kill (answer given, delete lost) and ran again after
        times: dict[str, list[float]] = {}
        for at, r in ok:
            if r["id"] in sent:
                times.setdefault(r["id"], []).append(at)
        dups = {mid: ts for mid, ts in times.items() if len(ts) > 1}
        for mid, ts in dups.items():
            before = [t for t in ts if t < restarted_at]
            after = [t for t in ts if t >= restarted_at]
            assert len(ts) == 2 and len(before) == 1 and len(after) == 1, (sent[mid], ts, kill_at)
        # FIFO: in order in every group (first successful delivery of each message), and each
        # batch holds one group's messages consecutively
        for g in range(GROUPS):
            seen: list[int] = []
            for _, r in ok:
                if r["body"].startswith(f"fifo-e2e-g{g}-") and int(r["body"][-3:]) not in seen:
                    seen.append(int(r["body"][-3:]))
            assert seen == list(range(PER_GROUP)), (g, seen)
        for b in snap:
            fifo = [r for r in b["records"] if r["body"].startswith("fifo-e2e-")]
            for x, y in zip(fifo, fifo[1:]):
                if x["group"] == y["group"]:
                    assert int(y["body"][-3:]) == int(x["body"][-3:]) + 1, b["records"]
        # the queues drain
        deadline = time.monotonic() + 20
        while (queue_counts(sqs, url), queue_counts(sqs, furl)) != ((0, 0, 0), (0, 0, 0)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert queue_counts(sqs, url) == (0, 0, 0) and queue_counts(sqs, furl) == (0, 0, 0)
        batches = [b for b in snap if any(r["id"] in sent for r in b["records"])]
        print(f"\ne2e: sent {TOTAL} + {len(fifo_sent)} FIFO in {t_sent:.1f} s; kill -9 after {processed_at_kill} "
              f"processed; all processed {t_done:.1f} s after start; {len(batches)} standard batches "
              f"(mean {sum(len(b['records']) for b in batches) / len(batches):.1f} records); "
              f"{len(dups)} duplicates from the kill; {len(dead)} in the DLQ")
        lam.delete_event_source_mapping(UUID=m["UUID"])
        lam.delete_event_source_mapping(UUID=fm["UUID"])
    finally:
        d.kill()
        collector.close()
