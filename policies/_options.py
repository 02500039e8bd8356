"""Policy options: parse what a spec (``name:key=value``) or a policy file gives, with clear errors.

From a spec every option arrives as a string; from a YAML policy file it may arrive as a list,
a number. Each helper accepts both. Lists in a spec are joined with ``+``
(``community=IN+US``), because ``,`` separates options.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, cast, get_args

from tearline.model import (
    LEVELS,
    IdentifierKind,
    Level,
    PolicyError,
    Scenario,
    SimTime,
    iso,
    parse_duration,
    parse_time,
)

Option = str | int | float | bool | Sequence[str] | None
S = TypeVar("S", bound=str)

IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = get_args(IdentifierKind)


class OptionError(PolicyError):
    """One option of a policy is wrong; ``option`` names it, so a policy file can point at its line."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def _bad(policy: str, option: str, value: object, expected: str) -> OptionError:
    return OptionError(f"{policy}: option {option}={value!r} is not {expected}", option)


def items(policy: str, option: str, value: Option) -> tuple[str, ...]:
    """``"IN+US"`` or ``["IN", "US"]`` → ``("IN", "US")``; empty parts are dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split("+") if p.strip())
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise _bad(policy, option, value, "a list (write A+B in a spec, or a YAML list)")


def choice(policy: str, option: str, value: Option, allowed: Collection[S]) -> S:
    """One of ``allowed``."""
    if isinstance(value, str) and value in allowed:
        return cast(S, value)
    raise _bad(policy, option, value, f"one of {', '.join(allowed)}")


def choices(policy: str, option: str, value: Option, allowed: Collection[S]) -> tuple[S, ...]:
    """Several of ``allowed``, as a list."""
    out = items(policy, option, value)
    wrong = [v for v in out if v not in allowed]
    if wrong:
        raise OptionError(
            f"{policy}: option {option}: unknown {', '.join(map(repr, wrong))} (allowed: {', '.join(allowed)})",
            option,
        )
    return cast(tuple[S, ...], out)


def level(policy: str, option: str, value: Option) -> Level:
    """A classification level; ``TOP_SECRET``/``top-secret`` are accepted for ``TOP SECRET``."""
    if isinstance(value, str):
        norm = value.strip().upper().replace("_", " ").replace("-", " ")
        if norm in LEVELS:
            return norm
    raise _bad(policy, option, value, f"a classification level ({', '.join(LEVELS)})")


def duration(policy: str, option: str, value: Option) -> int:
    """``6h``, ``2d``, ``PT6H`` or whole seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(policy, option, value, "a duration (e.g. 6h, 2d, PT6H)")
    try:
        return parse_duration(int(value) if isinstance(value, str) and value.strip().isdigit() else value)
    except ValueError:
        raise _bad(policy, option, value, "a duration (e.g. 6h, 2d, PT6H)") from None


def number(policy: str, option: str, value: Option, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool):
        raise _bad(policy, option, value, "a number")
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _bad(policy, option, value, "a number") from None
    if out < minimum:
        raise _bad(policy, option, value, f"a number ≥ {minimum:g}")
    return out


def identifier_kinds(policy: str, option: str, value: Option) -> tuple[IdentifierKind, ...]:
    return choices(policy, option, value, IDENTIFIER_KINDS)


@dataclass(frozen=True)
class TimePoint:
    """A moment: absolute (``2008-11-26T20:30+05:30``) or relative to the scenario start (``start+2d``)."""

    absolute: SimTime | None = None
    offset: int = 0

    def at(self, scenario: Scenario) -> SimTime:
        return self.absolute if self.absolute is not None else scenario.start + self.offset

    def __str__(self) -> str:
        if self.absolute is not None:
            return iso(self.absolute)
        return "start" if not self.offset else f"start{'+' if self.offset > 0 else '-'}{abs(self.offset)}s"


def timepoint(policy: str, option: str, value: object) -> TimePoint:
    """``2030-03-05T00:00+00:00``, ``start``, ``start+2d`` or ``start-6h``."""
    hint = "a time (e.g. 2008-11-26T20:30+05:30, start, start+2d)"
    if isinstance(value, str):
        text = value.strip()
        if text == "start":
            return TimePoint(offset=0)
        if text.startswith(("start+", "start-")):
            try:
                offset = parse_duration(text[6:])
            except ValueError:
                raise _bad(policy, option, value, hint) from None
            return TimePoint(offset=offset if text[5] == "+" else -offset)
    try:
        return TimePoint(absolute=parse_time(value))
    except ValueError:
        raise _bad(policy, option, value, hint) from None


Default = Literal["release", "withhold"]
DEFAULTS: tuple[Default, ...] = ("release", "withhold")
