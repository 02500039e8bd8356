"""Batches: overrides reach the record, the same numbers on a local pool, inline and on Dask, a
killed sweep resumes from the cache to the same results, shards merge into the whole."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline import RunConfig, Scenario, replay
from tearline.cli import app
from tearline.model import DecisionEvent, Override
from tearline.research import Cache, Executor, Job, Shard, comparison_jobs, read_batch, run_rows

from ..conftest import ROOT

runner = CliRunner(env={"COLUMNS": "240"})
DESIGN = """\
scenario: connect-the-dots
policies: [siloed, fusion-centre]
seeds: 2
design: grid
parameters:
  - name: triage capacity
    path: agencies[*].triage_per_day
    scale: [0.5, 2]
  - name: noise
    path: noise_scale
    values: [1, 3]
"""


def _digests(done: list) -> list[str]:  # type: ignore[type-arg]
    return [d.data["digest"] for d in done]


class TestOverrides:
    def test_override_enters_config_and_record(self, teaching: Scenario) -> None:
        """An override changes the run id and shows in the record as the rule that decided."""
        base = RunConfig(scenario=teaching, policy="siloed")
        o = Override(action="release", sender="SFS", recipient="NSS", lead="who")
        cf = base.replace(overrides=(o,))
        assert cf.run_id != base.run_id
        result = asyncio.run(replay(cf))
        rules = {e.rule for e in result.events if isinstance(e, DecisionEvent) and e.lead == "who"}
        assert f"override: {o.label}" in rules

    def test_no_overrides_keeps_the_run_id(self, teaching: Scenario) -> None:
        """A run without overrides has the id it had before overrides existed (golden digests hold)."""
        base = RunConfig(scenario=teaching, policy="siloed")
        assert base.replace(overrides=()).run_id == base.run_id

    def test_two_releases_connect_the_dots(self, teaching: Scenario) -> None:
        """Releasing who and what to the agency that holds when disrupts the plot under siloed."""
        base = RunConfig(scenario=teaching, policy="siloed")
        cf = base.replace(
            overrides=(
                Override(action="release", sender="SFS", recipient="NSS"),
                Override(action="release", sender="NSIG", recipient="NSS"),
            )
        )
        assert asyncio.run(replay(base)).summary.outcomes[0].result == "attack"
        assert asyncio.run(replay(cf)).summary.outcomes[0].result == "disrupted"


@pytest.fixture(scope="module")
def jobs(teaching: Scenario) -> list[Job]:
    return comparison_jobs([RunConfig(scenario=teaching, policy=p) for p in ("siloed", "bilateral")], [1, 2])


class TestExecutors:
    def test_pool_equals_inline(self, jobs: list[Job]) -> None:
        """Two local processes give the same runs, in job order, as running them one by one."""
        assert _digests(Executor(jobs=2).run(jobs)) == _digests(Executor(jobs=1).run(jobs))

    def test_dask_local_cluster_equals_local(self, jobs: list[Job]) -> None:
        """A dask.distributed LocalCluster (2 worker processes) gives exactly the local numbers."""
        from distributed import LocalCluster

        streamed: list[int] = []
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            done = Executor(scheduler=cluster.scheduler_address).run(jobs, lambda d: streamed.append(d.index))
        local = Executor(jobs=1).run(jobs)
        assert run_rows(done) == run_rows(local)
        assert sorted(streamed) == list(range(len(jobs)))

    def test_a_killed_worker_s_runs_are_run_again(self, jobs: list[Job]) -> None:
        """A Dask worker process killed mid-batch: its runs are rescheduled and the results are unchanged."""
        from distributed import Client, LocalCluster

        local = Executor(jobs=1).run(jobs)
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            killed: list[str] = []

            def kill_one(_: object) -> None:
                if killed:
                    return
                with Client(cluster.scheduler_address) as c:
                    busy = [w for w, ts in c.processing().items() if ts] or list(
                        c.scheduler_info()["workers"]
                    )
                    killed.append(busy[0])
                    pid = c.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)

            done = Executor(scheduler=cluster.scheduler_address).run(jobs, kill_one)
        assert killed
        assert run_rows(done) == run_rows(local)

    def test_cache_hits_are_flagged(self, jobs: list[Job], tmp_path: Path) -> None:
        """A second pass over the same jobs comes from the cache, flagged as cached, same data."""
        ex = Executor(jobs=1, cache=Cache(tmp_path))
        first = ex.run(jobs[:2])
        again = ex.run(jobs[:2])
        assert [d.cached for d in first] == [False, False]
        assert [d.cached for d in again] == [True, True]
        assert [d.data for d in again] == [d.data for d in first]

    def test_shards_partition_the_batch(self, jobs: list[Job]) -> None:
        """Shards i/n are disjoint and together cover every job."""
        parts = [Shard(i, 3).select(jobs) for i in (1, 2, 3)]
        assert sorted(k for p in parts for k in p) == list(range(len(jobs)))


def _tearline(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tearline", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


class TestResume:
    def test_killed_sweep_resumes_to_the_same_results(self, tmp_path: Path) -> None:
        """A sweep killed midway (SIGKILL) resumes from the cache and ends with the uninterrupted results."""
        design = tmp_path / "design.yaml"
        design.write_text(DESIGN)
        (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
        (tmp_path / "seeds").symlink_to(ROOT / "seeds")
        cache = tmp_path / "cache"
        args = ("sweep", str(design), "--jobs", "1", "--cache", str(cache))
        proc = _tearline(*args, "--out", str(tmp_path / "resumed"), cwd=tmp_path)
        deadline = time.monotonic() + 300
        while len(list(cache.rglob("*.json"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, "the sweep finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        finished = len(list(cache.rglob("*.json")))
        assert 3 <= finished < 16
        proc = _tearline(*args, "--out", str(tmp_path / "resumed"), cwd=tmp_path)
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr.decode()
        assert f"{finished} from the cache" in stderr.decode()
        whole = _tearline(
            "sweep", str(design), "--jobs", "1", "--no-cache", "--out", str(tmp_path / "whole"), cwd=tmp_path
        )
        assert whole.wait(timeout=600) == 0
        _, resumed = read_batch(tmp_path / "resumed")
        _, uninterrupted = read_batch(tmp_path / "whole")
        assert resumed == uninterrupted
        assert (tmp_path / "resumed" / "sensitivity.csv").read_text() == (
            tmp_path / "whole" / "sensitivity.csv"
        ).read_text()


class TestShardsAndMerge:
    def test_merged_shards_equal_the_whole(self, tmp_path: Path) -> None:
        """compare --shard 1/2 and 2/2, merged, give the aggregate of the un-sharded batch."""
        common = [
            "compare",
            "connect-the-dots",
            "-p",
            "siloed",
            "-p",
            "fusion-centre",
            "--runs",
            "3",
            "--jobs",
            "1",
        ]
        cache = ["--cache", str(tmp_path / "cache")]
        for i in (1, 2):
            r = runner.invoke(app, [*common, *cache, "--shard", f"{i}/2", "--out", str(tmp_path / f"s{i}")])
            assert r.exit_code == 0, r.output
        r = runner.invoke(
            app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "m")]
        )
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, [*common, *cache, "--out", str(tmp_path / "whole")])
        assert r.exit_code == 0, r.output
        merged = json.loads((tmp_path / "m" / "batch.json").read_text())
        assert merged["missing_shards"] == 0
        assert (tmp_path / "m" / "aggregate.csv").read_text() == (
            tmp_path / "whole" / "aggregate.csv"
        ).read_text()
        for name in ("comparison.png", "comparison.svg", "runs.parquet", "differences.csv"):
            assert (tmp_path / "whole" / name).stat().st_size > 0

    def test_merging_different_batches_is_refused(self, tmp_path: Path) -> None:
        """Shards of different batches do not merge: exit 3 with a reason, no traceback."""
        for i, p in ((1, "siloed"), (2, "bilateral")):
            r = runner.invoke(
                app,
                ["compare", "connect-the-dots", "-p", p, "--runs", "1", "--jobs", "1", "--no-cache",
                 "--shard", f"{i}/2", "--out", str(tmp_path / f"s{i}")],
            )  # fmt: skip
            assert r.exit_code == 0, r.output
        r = runner.invoke(
            app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "m")]
        )
        assert r.exit_code == 3
        assert "different batches" in r.output


class TestDesignErrors:
    @pytest.mark.parametrize(
        ("text", "needle"),
        [
            (
                DESIGN.replace("agencies[*].triage_per_day", "agencies[NOPE].triage_per_day"),
                "no item of 'agencies'",
            ),
            (DESIGN.replace("scale: [0.5, 2]", "range: [1, 2]"), "a range needs design: lhs"),
            (DESIGN.replace("design: grid", "design: fractal"), "design"),
        ],
    )
    def test_bad_design_names_file_line_and_field(self, tmp_path: Path, text: str, needle: str) -> None:
        """A bad design file gets exit 2 and a message with the file, line and field — no traceback."""
        path = tmp_path / "design.yaml"
        path.write_text(text)
        r = runner.invoke(app, ["sweep", str(path), "--no-cache", "--jobs", "1"])
        assert r.exit_code == 2, r.output
        assert str(path) in r.output and needle in r.output
        assert "parameters" in r.output or "design" in r.output
        assert "Traceback" not in r.output


class TestEngineFingerprint:
    def test_cache_lives_under_the_engine_s_fingerprint(self, tmp_path: Path) -> None:
        """A cache keeps results in a folder named by the engine's source hash, so a new engine starts afresh."""
        from tearline.research._batch import engine_fingerprint

        fp = engine_fingerprint()
        assert len(fp) == 16 and Cache(tmp_path).root == tmp_path / fp
