"""``sweep``: a design over scenario parameters × policies × seeds, from a small YAML file, and a
sensitivity summary (which parameter moves each outcome most).

A design file::

    scenario: mumbai-2008
    policies: [fusion-centre]
    seeds: [1, 2, 3]            # or a count: 3 (seeds 1..3)
    design: one-at-a-time       # grid | lhs | one-at-a-time
    samples: 8                  # lhs only
    sample_seed: 1              # lhs only
    parameters:
      - name: joint cell delay
        path: centres[india-uk-us-cell].delay
        values: [0, 1d, 3d]
      - name: triage capacity
        path: agencies[*].triage_per_day
        scale: [0.5, 1, 2]      # multiplies what the scenario says (agencies without one: defaults)
      - name: noise
        path: noise_scale       # run options: noise_scale, exclude_disputed
        range: [0.5, 6]         # lhs only: a continuous range

A ``path`` walks the scenario as written: ``a.b`` for fields, ``list[KEY]`` for the item of a list
whose ``id`` or ``name`` is KEY, ``list[field=value]`` for the items whose field reads value
(``injects[disputed=true]``), ``list[*]`` for every item. An optional part the scenario leaves out is
started empty (``injects[x].uncertain.chance`` on an inject without ``uncertain:``). Any field of the
scenario can be named, so a new one needs no code here."""

from __future__ import annotations

import itertools
import json
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from tearline.model import Model, Problem, RunConfig, Scenario, ScenarioError, read, validate

from ._batch import Job
from ._tables import Row, aggregate

AS_WRITTEN = "as written"
RUN_OPTIONS = ("noise_scale", "exclude_disputed")
_SEGMENT = re.compile(r"^([a-z_]+)(?:\[([^\]]+)\])?$")

Value = str | int | float | bool | list[str]


class Parameter(Model):
    name: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(min_length=1)]
    values: tuple[Value, ...] | None = None
    scale: tuple[float, ...] | None = None
    range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        given = [k for k in ("values", "scale", "range") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, scale or range")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high]")
        return self


class Design(Model):
    scenario: str
    policies: Annotated[tuple[str, ...], Field(min_length=1)]
    seeds: int | tuple[int, ...] = 1
    design: Literal["grid", "lhs", "one-at-a-time"] = "grid"
    samples: Annotated[int, Field(ge=1)] = 8
    sample_seed: int = 1
    parameters: Annotated[tuple[Parameter, ...], Field(min_length=1)]

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(1, self.seeds + 1)) if isinstance(self.seeds, int) else self.seeds


def load_design(path: Path) -> tuple[Design, Any]:
    """Read and check a design file; errors name the file, line and field."""
    data, locate = read(path)
    design = validate(Design, data, path, locate)
    for i, p in enumerate(design.parameters):
        if p.range is not None and design.design != "lhs":
            raise ScenarioError(
                str(path),
                [Problem(f"parameters[{i}].range", "a range needs design: lhs", locate(("parameters", i)))],
            )
    return design, locate


def _label(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _levels(p: Parameter) -> list[tuple[str, Any]]:
    """(label, how to apply) for each level: ("x2", ("scale", 2.0)) or ("3d", ("set", "3d"))."""
    if p.scale is not None:
        return [(f"×{s:g}", ("scale", s)) for s in p.scale]
    assert p.values is not None
    return [(_label(v), ("set", v)) for v in p.values]


Point = dict[str, tuple[str, Any]]
"""Parameter name → (label, how to apply)."""


def points(design: Design) -> list[Point]:
    """The design's points (one-at-a-time: every level of each parameter, the rest as written)."""
    params = design.parameters
    if design.design == "grid":
        return [
            {p.name: lv for p, lv in zip(params, combo, strict=True)}
            for combo in itertools.product(*(_levels(p) for p in params))
        ]
    if design.design == "one-at-a-time":
        return [{p.name: lv} for p in params for lv in _levels(p)]
    rng = np.random.default_rng(design.sample_seed)
    n = design.samples
    out: list[Point] = [{} for _ in range(n)]
    for p in params:
        strata = (rng.permutation(n) + rng.random(n)) / n  # one sample in each of n strata
        for k, u in enumerate(strata):
            if p.range is not None:
                v = round(p.range[0] + float(u) * (p.range[1] - p.range[0]), 4)
                out[k][p.name] = (f"{v:g}", ("set", v))
            else:
                levels = _levels(p)
                out[k][p.name] = levels[min(len(levels) - 1, int(float(u) * len(levels)))]
    return out


def _walk(node: Any, segments: Sequence[str], scenario: Scenario) -> list[tuple[Any, str]]:
    """Every (container, key) the path's last segment names."""
    m = _SEGMENT.match(segments[0])
    if m is None or not isinstance(node, dict):
        raise ValueError(f"{segments[0]!r} is not a field name, list[KEY] or list[*]")
    name, key = m.groups()
    if not node and key is None and len(segments) == 1:
        return [(node, name)]  # a field of an optional part just started (checked when the scenario is)
    if name not in node and name.replace("_", "-") not in node:
        raise ValueError(f"the scenario has no field {name!r} here")
    name = name if name in node else name.replace("_", "-")
    if key is None:
        if len(segments) == 1:
            return [(node, name)]
        if node[name] is None:  # an optional part the scenario leaves out (an inject's uncertain:)
            node[name] = {}
        return _walk(node[name], segments[1:], scenario)
    items = node[name]
    if not isinstance(items, list):
        raise ValueError(f"{name!r} is not a list")
    picked = [i for i, item in enumerate(items) if isinstance(item, dict) and _matches(item, key)]
    if not picked:
        field, eq, value = key.partition("=")
        which = f"{field.strip()} {value.strip()}" if eq else f"id or name {key!r}"
        raise ValueError(f"no item of {name!r} has {which}")
    if len(segments) == 1:
        return [(items, str(i)) for i in picked]
    return [hit for i in picked for hit in _walk(items[i], segments[1:], scenario)]


def _matches(item: dict[str, Any], key: str) -> bool:
    """``*``: every item; ``field=value``: those whose field reads value; else: id or name is key."""
    if key == "*":
        return True
    field, eq, value = key.partition("=")
    if eq:
        got = item.get(field.strip(), item.get(field.strip().replace("_", "-")))
        return (got if isinstance(got, str) else json.dumps(got)) == value.strip()
    return key in (item.get("id"), item.get("name"))


def _apply(data: dict[str, Any], path: str, how: tuple[str, Any], scenario: Scenario) -> None:
    kind, value = how
    for container, key in _walk(data, path.split("."), scenario):
        k: Any = int(key) if isinstance(container, list) else key
        if kind == "set":
            container[k] = value
            continue
        base = container[k] if isinstance(container, list) else container.get(k)
        if base is None:
            base = data["defaults"].get(key) if isinstance(container, dict) else None
        if not isinstance(base, int | float) or isinstance(base, bool):
            raise ValueError(f"{path}: scale needs a number, the scenario has {base!r}")
        # Whole numbers (durations in seconds, counts) stay whole; rates stay rates.
        container[k] = round(base * value) if isinstance(base, int) else base * value


def point_config(base: RunConfig, design: Design, point: Point, where: tuple[Path, Any]) -> RunConfig:
    """``base`` with the point's values applied to its scenario and run options."""
    file, locate = where
    data = base.scenario.model_dump(by_alias=True, mode="json")
    options: dict[str, Any] = {}
    for i, p in enumerate(design.parameters):
        if p.name not in point:
            continue
        _, how = point[p.name]
        problem = None
        if p.path in RUN_OPTIONS:
            kind, value = how
            options[p.path] = getattr(base, p.path) * value if kind == "scale" else value
            continue
        try:
            _apply(data, p.path, how, base.scenario)
        except ValueError as exc:
            problem = Problem(f"parameters[{i}].path", str(exc), locate(("parameters", i, "path")))
        if problem:
            raise ScenarioError(str(file), [problem])
    try:
        scenario = Scenario.model_validate_json(json.dumps(data))
        return base.replace(scenario=scenario, **options)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(
            str(file),
            [Problem("parameters", f"the point {_labels(point)} makes the scenario invalid: {reasons}")],
        ) from None


def _labels(point: Point) -> dict[str, str]:
    return {name: label for name, (label, _) in point.items()}


def sweep_jobs(design: Design, bases: Sequence[RunConfig], where: tuple[Path, Any]) -> list[Job]:
    """One job per point × policy (a base configuration each) × seed; labels name every parameter."""
    names = [p.name for p in design.parameters]
    jobs: list[Job] = []
    for k, point in enumerate(points(design), start=1):
        labels = {"point": k, **{f"p:{n}": _labels(point).get(n, AS_WRITTEN) for n in names}}
        for base in bases:
            config = point_config(base, design, point, where)
            jobs.extend(Job(config.replace(seed=s), labels) for s in design.seed_list)
    return jobs


def _outcomes(rows: Sequence[Row]) -> dict[str, float]:
    plots = sorted({r["plot"] for r in rows})
    out = {}
    for plot in plots:
        rs = [r for r in rows if r["plot"] == plot]
        out[f"disrupted {plot}"] = statistics.fmean(r["disrupted"] for r in rs)
        out[f"warning h {plot}"] = statistics.fmean(r["warning_hours"] or 0.0 for r in rs)
    per_run = {r["run_id"]: r["mean_wait_hours"] for r in rows}
    out["triage wait h"] = statistics.fmean(per_run.values())
    return out


def _swings(rows: Sequence[Row], params: Sequence[str], policy: str) -> list[Row]:
    effects: list[Row] = []
    for p in params:
        others = [q for q in params if q != p]
        oat = all(r[q] == AS_WRITTEN for r in rows for q in others if r[p] != AS_WRITTEN)
        levels = sorted({r[p] for r in rows if r[p] != AS_WRITTEN} or {AS_WRITTEN})
        means: dict[str, dict[str, float]] = {}
        for level in levels:
            rs = [r for r in rows if r[p] == level and (not oat or all(r[q] == AS_WRITTEN for q in others))]
            if rs:
                means[level] = _outcomes(rs)
        for outcome in next(iter(means.values()), {}):
            values = {lv: m[outcome] for lv, m in means.items()}
            lo, hi = min(values, key=values.__getitem__), max(values, key=values.__getitem__)
            effects.append(
                {
                    "policy": policy,
                    "parameter": p.removeprefix("p:"),
                    "outcome": outcome,
                    "low": round(values[lo], 4),
                    "low_at": lo,
                    "high": round(values[hi], 4),
                    "high_at": hi,
                    "swing": round(values[hi] - values[lo], 4),
                }
            )
    return effects


def analyse_sweep(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Each point's outcomes with intervals, and each parameter's swing on each outcome: the range
    of the outcome's mean over the parameter's levels (main effect; one-at-a-time: the others as
    written). Sorted by swing, largest first."""
    params = [k for k in rows[0] if k.startswith("p:")] if rows else []
    effects: list[Row] = []
    for policy in dict.fromkeys(r["policy"] for r in rows):
        effects += _swings([r for r in rows if r["policy"] == policy], params, policy)
    effects.sort(key=lambda e: (e["policy"], e["outcome"], -e["swing"], e["parameter"]))
    return {"points": aggregate(rows, ("policy", "point", *params)), "sensitivity": effects}
