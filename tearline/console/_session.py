"""One room's exercise: the engine, its clock's pacing, and who may see and do what.

Everything the pages ask for goes through a :class:`Session`, which holds the one
:class:`tearline.run.Exercise` and a lock, so that the play loop, the facilitator and the players
never step on each other. Pacing waits with ``asyncio.sleep``: the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from tearline.broker import Transport
from tearline.model import DeskAction, DeskDecision, Event, Inject, RunConfig, SimTime, TearlineError
from tearline.run import Exercise, RunResult, Skip

T = TypeVar("T")

MAX_PAUSE = 2.0
"""Longest wall-clock wait between two windows while playing (seconds), however quiet the period."""


class Session:
    """A live exercise for one room: a facilitator key, one join code per agency."""

    def __init__(
        self,
        config: RunConfig,
        out: Path,
        *,
        key: str | None = None,
        connect: Callable[[], contextlib.AbstractAsyncContextManager[Transport]] | None = None,
    ) -> None:
        """``connect``: opens the cluster the exercise plays on (Kafka), in the server's event loop;
        without it the exercise runs in-process."""
        self.config = config
        self.out = out
        self._connect = connect
        self._stack = contextlib.AsyncExitStack()
        self.exercise = Exercise(config)
        self.key = key or secrets.token_urlsafe(9)
        self.codes: dict[str, str] = {}
        """Join code → agency id."""
        self.playing = False
        self.speed = 6 * 3600.0
        """Sim seconds per wall-clock second while playing."""
        self.message = ""
        """The last thing the facilitator should be told (a skipped quiet period, an error)."""
        self.result: RunResult | None = None
        self.version = 0
        self._changed = asyncio.Condition()
        self._lock = asyncio.Lock()
        self._player: asyncio.Task[None] | None = None
        self._events: tuple[int, list[Event]] = (-1, [])

    async def start(self) -> None:
        if self._connect is not None:
            transport = await self._stack.enter_async_context(self._connect())
            self.exercise = Exercise(self.config, transport)
        await self.exercise.start()
        self.codes = {secrets.token_urlsafe(6): a for a in self.exercise.agencies}

    async def close(self) -> None:
        self.pause()
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
        await self.exercise.close()
        await self._stack.aclose()

    # -- who is who ------------------------------------------------------------------------
    def agency_of(self, code: str) -> str | None:
        return self.codes.get(code)

    def code_of(self, agency: str) -> str:
        return next(c for c, a in self.codes.items() if a == agency)

    @property
    def scenario_local(self) -> Callable[[SimTime], str]:
        return self.exercise.local

    # -- changes and waiting for them ------------------------------------------------------
    async def _changed_now(self) -> None:
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the exercise changes after version ``seen`` (or ``timeout`` seconds)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version != seen), timeout)
        return self.version

    async def _do(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run one change under the lock; say what went wrong instead of failing the page."""
        async with self._lock:
            try:
                return await action()
            finally:
                await self._changed_now()

    async def events(self) -> list[Event]:
        """The record so far (read once per change)."""
        async with self._lock:
            if self._events[0] != self.version:
                self._events = (self.version, await self.exercise.record())
            return self._events[1]

    # -- the clock -------------------------------------------------------------------------
    def _said(self, skip: Skip | None) -> None:
        self.message = skip.describe(self.exercise.local) if skip is not None else ""

    async def step(self) -> None:
        async def go() -> None:
            self._said(await self.exercise.step())

        await self._do(go)

    async def jump(self, to: SimTime) -> None:
        async def go() -> None:
            self._said(await self.exercise.advance_to(to))

        await self._do(go)

    def play(self, speed: float | None = None) -> None:
        if speed is not None:
            if speed <= 0:
                raise ValueError("speed must be positive")
            self.speed = speed
        self.playing = True
        if self._player is None or self._player.done():
            self._player = asyncio.create_task(self._play())

    def pause(self) -> None:
        self.playing = False

    async def _play(self) -> None:
        async def go() -> int:
            if not self.playing:  # paused (or rewound, or ended) while this step waited for the lock
                return 0
            before = self.exercise.clock
            self._said(await self.exercise.step())
            return self.exercise.clock - before

        while self.playing and not self.exercise.over and self.result is None:
            moved = await self._do(go)
            await asyncio.sleep(min(MAX_PAUSE, max(0.05, moved / self.speed)))
        self.playing = False
        await self._changed_now()

    # -- moves -----------------------------------------------------------------------------
    async def inject(self, inject: Inject) -> Inject:
        return await self._do(lambda: self.exercise.inject(inject))

    async def note(self, text: str) -> None:
        await self._do(lambda: self.exercise.note(text))

    async def change_policy(self, policy: str) -> None:
        await self._do(lambda: self.exercise.change_policy(policy))

    async def decide(
        self, agency: str, lead: str, action: DeskAction, counterpart: str, note: str = ""
    ) -> None:
        decision = DeskDecision(agency=agency, lead=lead, action=action, counterpart=counterpart, note=note)
        await self._do(lambda: self.exercise.decide(decision))

    async def rewind(self, to: SimTime) -> None:
        """Back to ``to``: the exercise is replayed with the moves made by then; play stops."""
        self.pause()

        async def go() -> None:
            old = self.exercise
            self.exercise = await old.rewound(to)
            await old.close()
            self.message = (
                f"rewound to {self.exercise.local(self.exercise.clock)}: "
                f"{len(self.exercise.moves)} earlier move(s) replayed"
            )

        await self._do(go)

    async def end(self) -> RunResult:
        """Play out the rest, write the run directory (record, summary, the moves), and keep the result."""
        self.pause()

        async def go() -> RunResult:
            if self.result is None:
                self.result = await self.exercise.debrief(self.out)
            return self.result

        return await self._do(go)


def friendly(exc: Exception) -> str:
    """One line for the page: Tearline's own errors as they are, others with their kind."""
    if isinstance(exc, TearlineError | ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
