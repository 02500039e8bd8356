"""``tearline exercise``: a live tabletop exercise in the terminal."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tearline.model import Inject, Problem, ScenarioError, TearlineError, load_facts, read, validate
from tearline.report import run_timeline

from ._common import Enable, ExcludeDisputed, Policy, Seed, clear_errors, err, load, out, run_config
from .run import print_outcomes

ROOT_SEEDS = Path(__file__).resolve().parent.parent.parent / "seeds"


EXERCISE_HELP = """commands:
  step [N]            run N clock windows (default 1)
  advance DURATION    move the clock on, e.g. advance 6h, advance 2d
  until TIME          move the clock to a time, e.g. until 2008-11-26T12:00+05:30
  live SPEED [FOR]    run paced against the wall clock: SPEED sim-seconds per second (e.g. live 3600 1d)
  view AGENCY         what one agency holds now: its cases, and what waits for triage
  inject FILE         add injects (scenario inject format, one or a list) from a YAML file
  note TEXT           write a facilitator's note into the record
  policy NAME         decide by another sharing policy from now on ("what if they shared now?")
  rewind TIME         go back to an earlier time (the moves made by then are replayed)
  debrief [DIR]       play out the rest, print the outcome; write record, summary and injects to DIR
  help | quit"""


def exercise(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise: Annotated[
        bool, typer.Option("--show-noise", help="Include background noise in the timeline.")
    ] = False,
) -> None:
    """Run a live tabletop exercise: step the clock, inject, show each agency's view, debrief.

    Reads commands from the terminal (or a pipe). Type 'help' for the list.
    """
    from tearline.run import Exercise

    with clear_errors():
        ex = Exercise(run_config(load(scenario), policy, seed, exclude_disputed, enable, 1.0))
    asyncio.run(_exercise_loop(ex, noise))


async def _exercise_loop(ex: Any, noise: bool) -> None:
    import shlex

    from tearline.model import parse_duration, parse_time
    from tearline.run import Exercise, Skip

    assert isinstance(ex, Exercise)
    s = ex.run.scenario
    await ex.start()
    out.print(f"[bold]{s.title}[/] — policy {ex.config.policy}, seed {ex.config.seed}. Type 'help'.")

    def said(skip: Skip | None) -> None:
        if skip is not None:
            out.print(f"[dim]{skip.describe(s.local)}[/]")

    async def show() -> None:
        events, since = await ex.events()
        for row in run_timeline(s, events, show_noise=noise, since=since, fold=not noise):
            out.print(
                f"{s.local(row.at)}  [bold]{row.who:<10}[/] {row.what}",
                style=row.style or None,
                soft_wrap=True,
            )

    while True:
        try:
            line = input(f"[{s.local(ex.clock)}] > ")
        except EOFError:
            break
        try:
            words = shlex.split(line)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            continue
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd in {"quit", "exit"}:
                break
            if cmd == "help":
                out.print(EXERCISE_HELP)
            elif cmd == "step":
                said(await ex.step(int(args[0]) if args else 1))
            elif cmd == "advance":
                said(await ex.advance_to(ex.clock + parse_duration(args[0])))
            elif cmd == "until":
                said(await ex.advance_to(parse_time(args[0])))
            elif cmd == "live":
                speed = float(args[0])
                if speed <= 0:
                    raise ValueError("SPEED must be positive (sim-seconds per second)")
                stop = ex.clock + parse_duration(args[1]) if len(args) > 1 else s.horizon
                await _live(ex, speed, stop, show, said)
            elif cmd == "note":
                await ex.note(" ".join(args) or _missing("TEXT"))
                out.print(f"note recorded at {s.local(ex.clock)}")
            elif cmd == "policy":
                await ex.change_policy(args[0])
                out.print(f"the gateway decides by {args[0]} from {s.local(ex.clock)}")
            elif cmd == "rewind":
                ex = await ex.rewound(parse_time(args[0]))
                out.print(f"rewound to {s.local(ex.clock)}; {len(ex.moves)} earlier move(s) replayed")
            elif cmd == "view":
                v = ex.view(args[0])
                table = Table(
                    title=f"{v.agency} at {s.local(ex.clock)}: {v.waiting} waiting for triage",
                    title_justify="left",
                )
                for col in ("case", "leads", "facets", "score", "actionable"):
                    table.add_column(col)
                hidden = frozenset() if noise else ex.world.noise_ids
                for c in v.cases:
                    if not hidden.issuperset(c.leads):
                        table.add_row(
                            c.case,
                            ", ".join(c.leads),
                            "+".join(c.facets),
                            f"{c.score:.2f}",
                            "YES" if c.actionable else "",
                        )
                out.print(table)
            elif cmd == "inject":
                for inj in _read_injects(Path(args[0])):
                    inj = await ex.inject(inj)
                    out.print(f"injected {inj.id} for {inj.observer} at {s.local(inj.at)}")
            elif cmd == "debrief":
                result = await ex.debrief(Path(args[0]) if args else None)
                await show()
                print_outcomes(result)
                break
            else:
                err.print(f"unknown command {cmd!r}; type 'help'")
                continue
            if cmd in {"step", "advance", "until"}:
                await show()
        except (IndexError, ValueError) as exc:
            err.print(f"[red]{cmd}: {exc or 'missing argument'}[/] (type 'help')")
        except TearlineError as exc:
            err.print(f"[red]{exc}[/]")
        except OSError as exc:
            err.print(f"[red]{cmd}: {exc.strerror or exc}: {exc.filename or ''}[/] (the exercise goes on)")


async def _live(ex: Any, speed: float, stop: int, show: Any, said: Any) -> None:
    """Run paced against the wall clock without blocking the event loop; Ctrl-C pauses."""
    import asyncio

    try:
        while (t := ex.driver.peek()) is not None and t < stop:
            before = ex.clock
            said(await ex.step())
            await show()
            await asyncio.sleep(min(5.0, max(0.0, (ex.clock - before) / speed)))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        out.print("paused")


def _missing(what: str) -> str:
    raise ValueError(f"missing {what}")


def _read_injects(path: Path) -> list[Inject]:
    """Injects from a YAML file (one, or a list), in the scenario's inject format, citations checked."""
    data, locate = read(path)
    items = data if isinstance(data, list) else [data]
    facts = load_facts(ROOT_SEEDS) if ROOT_SEEDS.is_dir() else {}
    injects = []
    for i, item in enumerate(items):
        prefix: tuple[int, ...] = (i,) if isinstance(data, list) else ()

        def at(loc: Sequence[int | str], prefix: tuple[int, ...] = prefix) -> int | None:
            return locate((*prefix, *loc))

        inj = validate(Inject, item, path, at)
        unknown = [c for c in inj.cites if c not in facts]
        if unknown:
            raise ScenarioError(
                str(path), [Problem("cites", f"unknown fact(s): {', '.join(unknown)}", at(("cites",)))]
            )
        injects.append(inj)
    return injects
