"""Simulated time: whole seconds since the Unix epoch (UTC), and durations in seconds.

Scenario files write times as ISO 8601 with an offset (``2008-11-26T20:30+05:30``) and
durations either as ISO 8601 (``PT6H``, ``P2D``) or short (``90s``, ``30m``, ``6h``, ``2d``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

SimTime = int
"""Seconds since 1970-01-01T00:00:00Z. Integer, so ordering and arithmetic are exact."""

MINUTE = 60
HOUR = 3600
DAY = 86400

EARLIEST = -2_208_988_800
"""1900-01-01T00:00:00Z: the earliest sim time accepted."""
LATEST = 4_102_444_800
"""2100-01-01T00:00:00Z: the latest sim time accepted."""
LONGEST = 100 * 365 * DAY
"""The longest duration accepted (a century)."""

_SHORT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY, "w": 7 * DAY}
_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


def _in_range(t: int) -> SimTime:
    if not EARLIEST <= t < LATEST:
        raise ValueError("times must fall between 1900-01-01 and 2100-01-01 (UTC)")
    return t


def parse_time(value: Any) -> SimTime:
    """Parse an ISO 8601 date-time with an explicit offset (or ``Z``) into sim time (1900–2100)."""
    if type(value) is int and EARLIEST <= value < LATEST:
        return value  # the common case: every event a service records is stamped with sim time
    if isinstance(value, bool):
        raise ValueError("expected a date-time such as 2008-11-26T20:30+05:30, got a boolean")
    if isinstance(value, int):
        return _in_range(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a date-time; write it like 2008-11-26T20:30+05:30") from None
    else:
        raise ValueError(f"expected a date-time string, got {type(value).__name__}")
    if dt.tzinfo is None:
        raise ValueError(
            f"{value!r} has no UTC offset; add one, e.g. {dt.isoformat(timespec='minutes')}+00:00"
        )
    return _in_range(int(dt.timestamp()))


def parse_duration(value: Any) -> int:
    """Parse ``PT6H``, ``P2D``, ``6h``, ``30m``, ``2d`` or an integer number of seconds (up to a century)."""
    seconds = _parse_duration(value)
    if seconds > LONGEST:
        raise ValueError(f"{value!r} is longer than a century")
    return seconds


def _parse_duration(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 6h or PT6H, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, str):
        short = _SHORT.match(value)
        if short:
            return int(float(short.group(1)) * _UNIT[short.group(2)])
        iso = _ISO_DURATION.match(value.strip())
        if iso and any(iso.groupdict().values()):
            parts = {k: int(v or 0) for k, v in iso.groupdict().items()}
            return (
                parts["w"] * 7 * DAY + parts["d"] * DAY + parts["h"] * HOUR + parts["m"] * MINUTE + parts["s"]
            )
    raise ValueError(f"{value!r} is not a duration; write it like 6h, 30m, 2d or PT6H")


_ISO: dict[SimTime, str] = {}
_ISO_KEPT = 1 << 16
"""How many rendered times :func:`iso` keeps (a run meets a few thousand distinct ones)."""


def iso(t: SimTime) -> str:
    """Render sim time canonically as UTC: ``2008-11-26T15:00:00Z``.

    The one formatter of sim time. Every record event is written with its times in this form,
    and a run writes the same few thousand times over and over, so each rendering is kept."""
    text = _ISO.get(t)
    if text is None:
        if len(_ISO) >= _ISO_KEPT:
            _ISO.clear()
        text = _ISO[t] = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def parse_offset(value: str) -> int:
    """``+05:30`` → 19800 seconds east of UTC."""
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value)
    if not match:
        raise ValueError(f"{value!r} is not a UTC offset; write it like +05:30 or -04:00")
    sign = 1 if match.group(1) == "+" else -1
    return sign * (int(match.group(2)) * HOUR + int(match.group(3)) * MINUTE)


def local(t: SimTime, offset: str) -> str:
    """Sim time as wall-clock time at a UTC offset, for people: ``2008-11-26 21:20 +05:30``."""
    shifted = datetime.fromtimestamp(t + parse_offset(offset), UTC)
    return f"{shifted:%Y-%m-%d %H:%M} {offset}"


def human_duration(seconds: int) -> str:
    """``3d 4h``, ``5h 20m``, ``45m``: for timelines and summaries."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    d, rem = divmod(s, DAY)
    h, rem = divmod(rem, HOUR)
    m = rem // MINUTE
    if d:
        return f"{sign}{d}d {h}h" if h else f"{sign}{d}d"
    if h:
        return f"{sign}{h}h {m}m" if m else f"{sign}{h}h"
    return f"{sign}{m}m"


_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
    "description": "ISO 8601 date-time with its UTC offset, e.g. 2008-11-26T20:30+05:30",
}
_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$"},
        {"type": "string", "pattern": r"^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$"},
    ],
    "description": "seconds, or a duration such as 30m, 6h, 2d or PT6H",
}

Time = Annotated[
    SimTime,
    BeforeValidator(parse_time),
    PlainSerializer(iso, return_type=str),
    WithJsonSchema(_TIME_SCHEMA),
]
"""A pydantic field type: parsed from ISO 8601, serialised as canonical UTC."""

Duration = Annotated[int, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
"""A pydantic field type: seconds, parsed from ``6h`` / ``PT6H`` / an integer."""
