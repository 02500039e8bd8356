"""Batches of replays: a local process pool or a Dask cluster, a result cache, shards.

Every run goes through the one driver (:func:`tearline.run.replay`); what comes back is a small
JSON-able digest of it (:func:`execute`), a pure function of the run's configuration, so a batch
gives the same numbers wherever its runs execute and in whatever order they finish."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tearline.model import DecisionEvent, InjectEvent, RunConfig, RunError
from tearline.run import replay

RunData = dict[str, Any]
"""What a batch keeps of one run: ``run_id``, ``digest``, ``summary`` (summary.json's content) and
``decisions`` (every decision on a non-noise lead: lead, sender, recipient, action, delay)."""


def execute(config: RunConfig) -> RunData:
    """Replay one configuration in this process and keep what research needs of it."""
    result = asyncio.run(replay(config))
    noise = {e.lead for e in result.events if isinstance(e, InjectEvent) and e.noise}
    return {
        "run_id": config.run_id,
        "digest": result.digest,
        "summary": result.summary.model_dump(mode="json"),
        "decisions": [
            [e.lead, e.sender, e.recipient, e.action, e.delay]
            for e in result.events
            if isinstance(e, DecisionEvent) and e.lead not in noise
        ],
    }


@dataclass(frozen=True)
class Job:
    """One run of a batch, with the labels that place it in the design (policy, link, parameters)."""

    config: RunConfig
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """A finished job; ``cached`` when its result came from the cache (never counted as work done)."""

    index: int
    job: Job
    data: RunData
    cached: bool


ENGINE = ("model", "policies", "broker", "agencies", "run", "report/_judge.py", "research/_batch.py")
"""What a run's data depends on: the model, the services, the driver, the judge, and :func:`execute`."""


@functools.cache
def engine_fingerprint() -> str:
    """A hash of the engine's source: results cached by one engine are never served by another."""
    package = Path(__file__).resolve().parent.parent  # the tearline package folder
    files: list[Path] = []
    for part in ENGINE:
        root = package / part
        if root.suffix == ".py":
            files.append(root)
            continue
        for folder, _, names in os.walk(root, followlinks=True):  # broker/, policies/... may be symlinks
            files += [Path(folder) / n for n in names if n.endswith(".py")]
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(package).as_posix()):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class Cache:
    """Finished runs on disk, one JSON file per run id (the hash of the full run configuration), in a
    folder per engine (:func:`engine_fingerprint`), so a changed engine starts a fresh cache."""

    def __init__(self, root: Path) -> None:
        self.root = root / engine_fingerprint()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def get(self, run_id: str) -> RunData | None:
        path = self._path(run_id)
        try:
            data: RunData = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return data if data.get("run_id") == run_id else None

    def put(self, data: RunData) -> None:
        path = self._path(data["run_id"])
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")))
        os.replace(tmp, path)  # atomic: an interrupted batch never leaves half a result


@dataclass(frozen=True)
class Shard:
    """Part ``index`` (1-based) of ``count``: every count-th job, for batch systems without Dask."""

    index: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        i, slash, n = text.partition("/")
        try:
            shard = cls(int(i), int(n)) if slash else None
        except ValueError:
            shard = None
        if shard is None or not 1 <= shard.index <= shard.count:
            raise RunError(f"--shard {text!r} is not i/n with 1 ≤ i ≤ n (e.g. 2/4)")
        return shard

    def select(self, jobs: Sequence[Job]) -> list[int]:
        return [k for k in range(len(jobs)) if k % self.count == self.index - 1]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class Executor:
    """Where runs execute: ``jobs`` local processes, or the Dask scheduler at ``scheduler``."""

    jobs: int = 0
    """Local processes (0: one per CPU; 1: in this process)."""
    scheduler: str | None = None
    """``tcp://HOST:PORT`` of a dask.distributed scheduler."""
    retries: int = 2
    """On Dask: how often a run whose worker died is tried again elsewhere."""
    cache: Cache | None = None

    def run(
        self, jobs: Sequence[Job], on_done: Callable[[Done], None] | None = None, *, shard: Shard = Shard()
    ) -> list[Done]:
        """Run this shard's jobs; call ``on_done`` as each finishes; return them in job order."""
        picked = shard.select(jobs)
        done: list[Done] = []

        def finish(d: Done) -> None:
            done.append(d)
            if on_done:
                on_done(d)

        todo: dict[str, list[int]] = {}  # run id → jobs (identical configurations run once)
        for k in picked:
            run_id = jobs[k].config.run_id
            hit = self.cache.get(run_id) if self.cache else None
            if hit is not None:
                finish(Done(k, jobs[k], hit, cached=True))
            else:
                todo.setdefault(run_id, []).append(k)
        configs = [jobs[ks[0]].config for ks in todo.values()]
        for run_id, data in self._stream(configs):
            if self.cache:
                self.cache.put(data)
            for k in todo[run_id]:
                finish(Done(k, jobs[k], data, cached=False))
        return sorted(done, key=lambda d: d.index)

    def _stream(self, configs: list[RunConfig]) -> Iterator[tuple[str, RunData]]:
        if not configs:
            return
        if self.scheduler is not None:
            yield from _dask(self.scheduler, configs, self.retries)
            return
        workers = self.jobs or os.cpu_count() or 1
        if workers == 1 or len(configs) == 1:
            for c in configs:
                yield c.run_id, execute(c)
            return
        with ProcessPoolExecutor(max_workers=min(workers, len(configs))) as pool:
            pending: dict[Future[RunData], str] = {pool.submit(execute, c): c.run_id for c in configs}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    yield pending.pop(f), f.result()


def _dask(address: str, configs: list[RunConfig], retries: int) -> Iterator[tuple[str, RunData]]:
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise RunError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = {
            client.submit(execute, c, key=f"tearline-run-{c.run_id}", retries=retries, pure=False): c.run_id
            for c in configs
        }
        for future, data in as_completed(futures, with_results=True):  # type: ignore[no-untyped-call]
            yield futures[future], data
    finally:
        client.close()  # type: ignore[no-untyped-call]
