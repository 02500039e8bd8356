"""Policies as data: a YAML format for researchers who do not write Python, and its linter.

A policy file is either a **rule set** — ordered rules, each ``match → action`` with optional
delay and transforms — or a **composition** of other policies (built-ins, plugins, inline rule
sets or compositions) under a stated combining algorithm. ``docs/policies.md`` describes every
field; ``policies/examples/`` has worked examples; ``tearline policies lint FILE`` checks one.

Rule set::

    policy: liaison-rules            # name: lower case, digits, hyphens
    summary: One line for tearline policies list.
    groups: {five-eyes: [US, GB, CA, AU, NZ]}
    combine: first-applicable        # how the rules combine (default first-applicable)
    default: withhold                # when no rule matches
    rules:
      - name: NOFORN stays home
        match: {caveats: {noforn: true}, domestic: false}
        action: withhold
      - name: allies get a tearline
        match: {recipient_in: five-eyes, classification: {at_least: SECRET}}
        action: release
        delay: 1d
        transforms: [{tearline: {downgrade_to: CONFIDENTIAL, drop: [phone]}}]

Composition::

    policy: caveats-first
    combine: deny-overrides          # deny-overrides | permit-overrides | first-applicable
    delays: max                      # max | sum | min, for combined releases
    members:
      - bilateral                    # a policy spec, as on the command line
      - {use: tlp, options: {community: [IN, US]}}
      - {use: bilateral, only: release}   # counts only where it releases
      - {rules: [...]}               # an inline rule set (or an inline composition)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from tearline.model import (
    LEVELS,
    TLP,
    AgencyId,
    AgencyKind,
    Country,
    Decision,
    Duration,
    IdentifierKind,
    IndicatorKind,
    Lead,
    Level,
    Locator,
    Model,
    PolicyError,
    Problem,
    Scenario,
    ScenarioError,
    Sensitivity,
    SisAlert,
    SourceType,
    Tearline,
    Transform,
    field_path,
    human_duration,
    read,
)

from . import _options as opt
from ._base import BasePolicy, Policy, PolicyContext, Route
from ._common import consent, listing, need_to_know, third_party_originators
from ._compose import ALGORITHMS, Algorithm, Composite, Delays, Only, Verdict, combine

T = TypeVar("T")


def _listify(value: object) -> object:
    """Validators before a strict field get Python values: a tuple, so strict validation accepts it."""
    if isinstance(value, list):
        return tuple(value)
    return (value,) if isinstance(value, str | bool) else value


Many = Annotated[tuple[T, ...], BeforeValidator(_listify)]
"""A list in YAML; a single value is read as a list of one."""

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]


# -- the format ---------------------------------------------------------------------------------
class LevelRange(Model):
    """``{at_least: CONFIDENTIAL, at_most: SECRET}`` (both ends inclusive)."""

    at_least: Level | None = None
    at_most: Level | None = None


def _check_time(value: str | None) -> str | None:
    if value is not None:
        try:
            opt.timepoint("time", "time", value)
        except PolicyError:
            raise ValueError(
                f"{value!r} is not a time; write 2008-11-26T20:30+05:30, start, or start+2d"
            ) from None
    return value


TimeText = Annotated[str | None, BeforeValidator(_check_time)]


class Window(Model):
    """``{after: start+2d, before: 2030-03-14T00:00+00:00}``: after inclusive, before exclusive."""

    after: TimeText = None
    before: TimeText = None


class CaveatMatch(Model):
    orcon: bool | None = None
    noforn: bool | None = None
    rel_to: Literal["marked", "unmarked", "includes-recipient", "excludes-recipient"] | None = None


class Match(Model):
    """Every condition given must hold (AND); a list means any of its values (OR)."""

    sender: Many[AgencyId] | None = None
    recipient: Many[AgencyId] | None = None
    sender_country: Many[Country] | None = None
    recipient_country: Many[Country] | None = None
    sender_kind: Many[AgencyKind] | None = None
    recipient_kind: Many[AgencyKind] | None = None
    sender_in: Many[str] | None = None
    """Membership: group names from the file's ``groups``."""
    recipient_in: Many[str] | None = None
    domestic: bool | None = None
    classification: Many[Level] | LevelRange | None = None
    caveats: CaveatMatch | None = None
    tlp: Many[TLP] | None = None
    indicator: Many[IndicatorKind] | None = None
    """Any of these indicator kinds is in the lead."""
    identifier: Many[IdentifierKind] | None = None
    """Any of these identifier kinds is in the lead."""
    source: Many[SourceType] | None = None
    sensitivity: Many[Sensitivity] | None = None
    third_party: bool | None = None
    """The lead carries other agencies' material."""
    assessment: bool | None = None
    """The lead is an assessment built from other leads."""
    named: bool | None = None
    """The recipient is among the lead's named recipients."""
    need_to_know: bool | None = None
    """The recipient has jurisdiction where the lead places something."""
    time: Window | None = None
    """When the decision is taken."""
    observed: Window | None = None
    """When the lead was observed."""


class TearlineSpec(Model):
    downgrade_to: Level | None = None
    keep: Many[IdentifierKind] | None = None
    drop: Many[IdentifierKind] = ()


class SisSpec(Model):
    category: Literal["discreet-check", "specific-check", "terrorism-marker"] = "discreet-check"


def _transform_shorthand(value: object) -> object:
    return {value: {}} if isinstance(value, str) else value


class TransformSpec(Model):
    """``{tearline: {...}}`` or ``{sis-alert: {category: ...}}``; ``tearline`` alone takes defaults."""

    model_config = ConfigDict(populate_by_name=True)

    tearline: TearlineSpec | None = None
    sis_alert: SisSpec | None = Field(default=None, alias="sis-alert")

    @model_validator(mode="after")
    def _one(self) -> TransformSpec:
        if (self.tearline is None) == (self.sis_alert is None):
            raise ValueError("give exactly one transform: tearline or sis-alert")
        return self


class Rule(Model):
    name: Annotated[str, Field(min_length=1)]
    match: Match = Match()
    action: Literal["release", "withhold", "consult"]
    reason: str | None = None
    delay: Duration = 0
    transforms: tuple[Annotated[TransformSpec, BeforeValidator(_transform_shorthand)], ...] = ()

    @model_validator(mode="after")
    def _withhold_plain(self) -> Rule:
        if self.action == "withhold" and (self.delay or self.transforms):
            raise ValueError("a withhold rule takes no delay or transforms")
        return self


class UseRef(Model):
    """A registered policy (built-in or plugin) with options given as YAML values."""

    use: str
    options: dict[str, Any] = Field(default_factory=dict)
    only: opt.Default | None = None
    """Count only this member's releases (or withholds); its other verdicts are not applicable."""


def _member_kind(value: object) -> str:
    if isinstance(value, str):
        return "spec"
    if isinstance(value, Mapping) and "use" in value:
        return "use"
    if isinstance(value, UseRef):
        return "use"
    return "doc"


Member = Annotated[
    Annotated[str, Tag("spec")] | Annotated[UseRef, Tag("use")] | Annotated["PolicyDoc", Tag("doc")],
    Discriminator(_member_kind),
]


class PolicyDoc(Model):
    """A policy file (or an inline member): a rule set, or a composition."""

    policy: Name | None = None
    summary: str = ""
    description: str = ""
    groups: dict[str, Many[str]] = Field(default_factory=dict)
    """Named sets of agency ids and country codes, for ``sender_in``/``recipient_in``."""
    combine: Algorithm | None = None
    default: opt.Default = "withhold"
    delays: Delays = "max"
    rules: tuple[Rule, ...] | None = None
    members: tuple[Member, ...] | None = None

    @model_validator(mode="after")
    def _shape(self) -> PolicyDoc:
        if (self.rules is None) == (self.members is None):
            raise ValueError("give either rules (a rule set) or members (a composition), not both or neither")
        if self.rules is not None and not self.rules:
            raise ValueError("rules is empty")
        if self.members is not None:
            if not self.members:
                raise ValueError("members is empty")
            if self.combine is None:
                raise ValueError(f"a composition must say how to combine: combine: {' | '.join(ALGORITHMS)}")
        return self


PolicyDoc.model_rebuild()


# -- compiling a rule set -------------------------------------------------------------------------
Predicate = Callable[[Lead, Route, PolicyContext], bool]


def _in_group(agency: Any, parties: frozenset[str]) -> bool:
    return agency.id in parties or agency.country in parties


def _window(w: Window, get: Callable[[Lead, PolicyContext], int], what: str) -> tuple[Predicate, str]:
    after = opt.timepoint("time", "after", w.after) if w.after is not None else None
    before = opt.timepoint("time", "before", w.before) if w.before is not None else None

    def pred(lead: Lead, route: Route, ctx: PolicyContext) -> bool:
        t = get(lead, ctx)
        return (after is None or t >= after.at(ctx.scenario)) and (
            before is None or t < before.at(ctx.scenario)
        )

    parts = ([f"from {after}"] if after else []) + ([f"before {before}"] if before else [])
    return pred, f"{what} {' '.join(parts)}"


def _compile_match(m: Match, groups: Mapping[str, frozenset[str]]) -> tuple[list[Predicate], list[str]]:
    preds: list[Predicate] = []
    said: list[str] = []

    def add(pred: Predicate, text: str) -> None:
        preds.append(pred)
        said.append(text)

    def one_of(values: Sequence[str]) -> str:
        return values[0] if len(values) == 1 else f"one of {', '.join(values)}"

    if m.sender is not None:
        s_ids = frozenset(m.sender)
        add(lambda lead, r, c: r.sender.id in s_ids, f"sender is {one_of(m.sender)}")
    if m.recipient is not None:
        r_ids = frozenset(m.recipient)
        add(lambda lead, r, c: r.recipient.id in r_ids, f"recipient is {one_of(m.recipient)}")
    if m.sender_country is not None:
        s_cc = frozenset(m.sender_country)
        add(lambda lead, r, c: r.sender.country in s_cc, f"sender in {one_of(m.sender_country)}")
    if m.recipient_country is not None:
        r_cc = frozenset(m.recipient_country)
        add(lambda lead, r, c: r.recipient.country in r_cc, f"recipient in {one_of(m.recipient_country)}")
    if m.sender_kind is not None:
        s_k = frozenset(m.sender_kind)
        add(lambda lead, r, c: r.sender.kind in s_k, f"sender is a {one_of(m.sender_kind)} agency")
    if m.recipient_kind is not None:
        r_k = frozenset(m.recipient_kind)
        add(lambda lead, r, c: r.recipient.kind in r_k, f"recipient is a {one_of(m.recipient_kind)} agency")
    if m.sender_in is not None:
        s_g = frozenset().union(*(groups.get(g, frozenset()) for g in m.sender_in))
        add(lambda lead, r, c: _in_group(r.sender, s_g), f"sender in {one_of(m.sender_in)}")
    if m.recipient_in is not None:
        r_g = frozenset().union(*(groups.get(g, frozenset()) for g in m.recipient_in))
        add(lambda lead, r, c: _in_group(r.recipient, r_g), f"recipient in {one_of(m.recipient_in)}")
    if m.domestic is not None:
        dom = m.domestic
        add(lambda lead, r, c: r.domestic == dom, "domestic" if dom else "across a border")
    if m.classification is not None:
        if isinstance(m.classification, LevelRange):
            lo = LEVELS.index(m.classification.at_least) if m.classification.at_least else 0
            hi = LEVELS.index(m.classification.at_most) if m.classification.at_most else len(LEVELS) - 1
            add(lambda lead, r, c: lo <= lead.marking.rank <= hi, f"classified {LEVELS[lo]}..{LEVELS[hi]}")
        else:
            lv = frozenset(m.classification)
            add(lambda lead, r, c: lead.marking.level in lv, f"classified {one_of(m.classification)}")
    if m.caveats is not None:
        cv = m.caveats
        if cv.orcon is not None:
            orcon = cv.orcon
            add(lambda lead, r, c: lead.caveats.orcon == orcon, "ORCON" if orcon else "not ORCON")
        if cv.noforn is not None:
            noforn = cv.noforn
            add(lambda lead, r, c: lead.caveats.noforn == noforn, "NOFORN" if noforn else "not NOFORN")
        if cv.rel_to is not None:
            mode = cv.rel_to

            def rel(lead: Lead, r: Route, c: PolicyContext) -> bool:
                marked = lead.caveats.rel_to
                if mode in ("marked", "unmarked"):
                    return (marked is not None) == (mode == "marked")
                if marked is None:
                    return False
                inside = r.recipient.country == r.sender.country or r.recipient.country in marked
                return inside == (mode == "includes-recipient")

            add(rel, f"REL TO {mode}")
    if m.tlp is not None:
        tl = frozenset(m.tlp)
        add(lambda lead, r, c: lead.tlp in tl, f"TLP:{one_of(m.tlp)}")
    if m.indicator is not None:
        ind = frozenset(m.indicator)
        add(
            lambda lead, r, c: any(i.kind in ind for i in lead.indicators), f"{one_of(m.indicator)} indicator"
        )
    if m.identifier is not None:
        idk = frozenset(m.identifier)
        add(
            lambda lead, r, c: any(i.kind in idk for i in lead.identifiers),
            f"{one_of(m.identifier)} identifier",
        )
    if m.source is not None:
        src = frozenset(m.source)
        add(lambda lead, r, c: lead.source.type in src, f"{one_of(m.source)} source")
    if m.sensitivity is not None:
        sens = frozenset(m.sensitivity)
        add(lambda lead, r, c: lead.source.sensitivity in sens, f"{one_of(m.sensitivity)} sensitivity")
    if m.third_party is not None:
        tp = m.third_party
        add(lambda lead, r, c: bool(lead.third_party) == tp, "third-party material" if tp else "own material")
    if m.assessment is not None:
        asm = m.assessment
        add(
            lambda lead, r, c: bool(lead.derived_from) == asm, "an assessment" if asm else "not an assessment"
        )
    if m.named is not None:
        nm = m.named
        add(
            lambda lead, r, c: (r.recipient.id in lead.named_recipients) == nm, "named" if nm else "not named"
        )
    if m.need_to_know is not None:
        ntk = m.need_to_know
        add(
            lambda lead, r, c: (need_to_know(lead, r.recipient) is not None) == ntk,
            "need to know" if ntk else "no need to know",
        )
    if m.time is not None:
        pred, text = _window(m.time, lambda lead, c: c.now, "decided")
        add(pred, text)
    if m.observed is not None:
        pred, text = _window(m.observed, lambda lead, c: lead.observed_at, "observed")
        add(pred, text)
    return preds, said


def _transform(t: TransformSpec) -> Transform:
    if t.tearline is not None:
        return Tearline(downgrade_to=t.tearline.downgrade_to, keep=t.tearline.keep, drop=t.tearline.drop)
    assert t.sis_alert is not None  # the validator ensures one
    return SisAlert(category=t.sis_alert.category)


@dataclass(frozen=True)
class CompiledRule:
    label: str
    rule: Rule
    preds: tuple[Predicate, ...]
    said: str
    transforms: tuple[Transform, ...]

    def matches(self, lead: Lead, route: Route, ctx: PolicyContext) -> bool:
        return all(p(lead, route, ctx) for p in self.preds)

    def decision(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        rule = self.rule
        reason = rule.reason or self.said
        if rule.action == "withhold":
            return Decision.withhold(self.label, reason)
        if rule.action == "consult":
            r = route.recipient.id
            sources = third_party_originators(lead, r)
            if len(sources) > 1:
                return Decision.withhold(
                    self.label,
                    f"{reason}; consent needed from {listing(sources)}, one originator per release",
                )
            if sources:
                answer = consent(ctx, lead, r)
                if answer is None:
                    return Decision.ask(self.label, f"{reason}; asking {sources[0]}", sources[0])
                if answer == "refuse":
                    return Decision.withhold(self.label, f"{reason}; {sources[0]} refused")
                reason = f"{reason}; {sources[0]} consented"
            else:
                reason = f"{reason}; no third-party material, nobody to ask"
        return Decision.release(self.label, reason, delay=rule.delay, transforms=self.transforms)


class RuleSet(BasePolicy):
    """A policy written as data: ordered rules combined by ``combine`` (default first-applicable)."""

    def __init__(
        self,
        name: str,
        rules: Sequence[Rule],
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        summary: str = "",
        combine: Algorithm = "first-applicable",
        default: opt.Default = "withhold",
        delays: Delays = "max",
    ) -> None:
        self.name = name
        self.summary = summary or f"{len(rules)} rule(s), {combine}, default {default}"
        self.combine = combine
        self.default = default
        self.delays = delays
        frozen = {k: frozenset(v) for k, v in (groups or {}).items()}
        self.rules: tuple[CompiledRule, ...] = ()
        compiled = []
        for r in rules:
            preds, said = _compile_match(r.match, frozen)
            text = "; ".join(said) if said else "every lead and route"
            if r.delay:
                text += f"; delay {human_duration(r.delay)}"
            compiled.append(
                CompiledRule(
                    f"{name}: {r.name}", r, tuple(preds), text, tuple(_transform(t) for t in r.transforms)
                )
            )
        self.rules = tuple(compiled)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        if self.combine == "first-applicable":
            for r in self.rules:
                if r.matches(lead, route, ctx):
                    return r.decision(lead, route, ctx)
            return Decision.not_applicable(
                f"{self.name}: no rule matched", f"no rule of {self.name} matches; default {self.default}",
                default=self.default,
            )  # fmt: skip
        verdicts: list[Verdict] = [
            (r.rule.name, r.decision(lead, route, ctx)) for r in self.rules if r.matches(lead, route, ctx)
        ]
        return combine(self.combine, verdicts, name=self.name, default=self.default, delays=self.delays)


# -- from data to a policy ------------------------------------------------------------------------
@dataclass
class _Build:
    """Compiles a validated document, collecting problems (with their field paths) as it goes."""

    errors: list[tuple[tuple[int | str, ...], str]] = field(default_factory=list)
    warnings: list[tuple[tuple[int | str, ...], str]] = field(default_factory=list)

    def policy(
        self, doc: PolicyDoc, loc: tuple[int | str, ...], name: str, groups: Mapping[str, tuple[str, ...]]
    ) -> Policy | None:
        groups = {**groups, **doc.groups}
        if doc.rules is not None:
            self._check_rules(doc, loc, groups)
            return RuleSet(
                name,
                doc.rules,
                groups=groups,
                summary=doc.summary,
                combine=doc.combine or "first-applicable",
                default=doc.default,
                delays=doc.delays,
            )
        members: list[Policy] = []
        for i, m in enumerate(doc.members or ()):
            built = self.member(m, (*loc, "members", i), f"{name}-{i + 1}", groups)
            if built is not None:
                members.append(built)
        if len(members) != len(doc.members or ()):
            return None
        assert doc.combine is not None  # the validator ensures it
        return Composite(
            doc.combine,
            members,
            name=name,
            summary=doc.summary or None,
            default=doc.default,
            delays=doc.delays,
        )

    def member(
        self,
        m: str | UseRef | PolicyDoc,
        loc: tuple[int | str, ...],
        name: str,
        groups: Mapping[str, tuple[str, ...]],
    ) -> Policy | None:
        from ._registry import build_policy, load_policy

        try:
            if isinstance(m, str):
                if m.endswith((".yaml", ".yml")):
                    raise PolicyError(
                        f"{m!r}: include other policy files' content inline (members: [{{rules: ...}}])"
                    )
                return load_policy(m)
            if isinstance(m, UseRef):
                built = build_policy(m.use, {k.replace("-", "_"): v for k, v in m.options.items()})
                return Only(built, m.only) if m.only is not None else built
        except PolicyError as exc:
            self.errors.append((loc, str(exc)))
            return None
        return self.policy(m, loc, m.policy or name, groups)

    def _check_rules(
        self, doc: PolicyDoc, loc: tuple[int | str, ...], groups: Mapping[str, tuple[str, ...]]
    ) -> None:
        seen: dict[str, int] = {}
        catch_all: int | None = None
        rules = doc.rules or ()
        for i, r in enumerate(rules):
            here = (*loc, "rules", i)
            if r.name in seen:
                self.warnings.append(((*here, "name"), f"rule name {r.name!r} repeats rule {seen[r.name]}'s"))
            seen.setdefault(r.name, i)
            for side in ("sender_in", "recipient_in"):
                for g in getattr(r.match, side) or ():
                    if g not in groups:
                        known = ", ".join(sorted(groups)) or "none defined"
                        self.errors.append(((*here, "match", side), f"unknown group {g!r} (groups: {known})"))
            if (doc.combine or "first-applicable") == "first-applicable" and catch_all is not None:
                self.warnings.append(
                    (
                        here,
                        f"unreachable: rule {catch_all} ({rules[catch_all].name!r}) matches everything first",
                    )
                )
            if r.match == Match() and catch_all is None:
                catch_all = i
            if r.action == "consult" and r.match.third_party is not True:
                self.warnings.append(
                    ((*here, "match"), "a consult rule asks the originator of third-party material; "
                     "add third_party: true so it matches only leads that carry some")
                )  # fmt: skip


def _jsonable(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot read {type(value).__name__} in a policy file")


def _problems(error: ValidationError, locate: Locator | None) -> list[Problem]:
    out = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in {
            "spec", "use", "doc", "tuple[str, ...]", "LevelRange"})))  # fmt: skip
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling; docs/policies.md lists the fields)"
        elif err["type"] == "missing":
            reason = "required field is missing"
        elif isinstance(err.get("input"), bool) and "string" in err["type"]:
            reason += " — YAML read this as true/false: quote it (e.g. 'NO' for Norway, 'ON')"
        out.append(Problem(field_path(loc), reason, locate(loc) if locate else None))
    return sorted(set(out), key=lambda p: (p.line or 0, p.field))


@dataclass
class LintReport:
    """What ``tearline policies lint`` found in one file."""

    file: str
    errors: list[Problem]
    warnings: list[Problem]
    policy: Policy | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def check(data: object, source: str, locate: Locator | None = None) -> LintReport:
    """Validate and compile parsed policy data; never raises for a bad document."""

    def at(loc: tuple[int | str, ...], reason: str) -> Problem:
        return Problem(field_path(loc), reason, locate(loc) if locate else None)

    if not isinstance(data, Mapping):
        return LintReport(
            source, [at((), "a policy file is a mapping with policy:, and rules: or members:")], []
        )
    try:
        doc = PolicyDoc.model_validate_json(json.dumps(data, default=_jsonable))
    except ValidationError as exc:
        return LintReport(source, _problems(exc, locate), [])
    except TypeError as exc:
        return LintReport(source, [at((), str(exc))], [])
    if doc.policy is None:
        return LintReport(
            source,
            [at(("policy",), "required field is missing: name the policy (e.g. policy: my-rules)")],
            [],
        )
    build = _Build()
    policy = build.policy(doc, (), doc.policy, {})
    errors = [at(loc, reason) for loc, reason in build.errors]
    warnings = [at(loc, reason) for loc, reason in build.warnings]
    return LintReport(source, errors, warnings, policy if not errors else None)


def lint(path: Path, scenario: Scenario | None = None) -> LintReport:
    """Check a policy file: YAML, fields, policy names, groups; with a scenario, its agencies too."""
    path = Path(path)
    if not path.is_file():
        return LintReport(str(path), [Problem("(file)", "no such policy file")], [])
    try:
        data, locate = read(path)
    except ScenarioError as exc:
        return LintReport(str(path), list(exc.problems), [])
    report = check(data, str(path), locate)
    if scenario is not None and isinstance(data, Mapping):
        report.warnings.extend(_against(data, scenario, locate))
    return report


def _against(data: Mapping[str, Any], scenario: Scenario, locate: Locator) -> list[Problem]:
    """Agencies and countries the file names that the scenario does not have (warnings)."""
    agencies = {a.id for a in scenario.agencies}
    countries = {a.country for a in scenario.agencies}
    out: list[Problem] = []

    def walk(node: object, loc: tuple[int | str, ...]) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                here = (*loc, str(k))
                values = v if isinstance(v, list) else [v]
                if k in ("sender", "recipient"):
                    for x in values:
                        if isinstance(x, str) and x not in agencies:
                            out.append(
                                Problem(
                                    field_path(here), f"{x!r} is not an agency of {scenario.id}", locate(here)
                                )
                            )
                elif k in ("sender_country", "recipient_country"):
                    for x in values:
                        if isinstance(x, str) and x not in countries:
                            out.append(
                                Problem(
                                    field_path(here), f"no agency of {scenario.id} is in {x!r}", locate(here)
                                )
                            )
                elif k == "groups" and isinstance(v, Mapping):
                    for g, members in v.items():
                        for x in members if isinstance(members, list) else [members]:
                            if isinstance(x, str) and x not in agencies and x not in countries:
                                gl = (*here, str(g))
                                out.append(
                                    Problem(
                                        field_path(gl),
                                        f"{x!r} names no agency or country of {scenario.id}",
                                        locate(gl),
                                    )
                                )
                else:
                    walk(v, here)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*loc, i))

    walk(data, ())
    return out


def _fail(report: LintReport) -> PolicyError:
    lines = "\n".join(p.render(report.file) for p in report.errors)
    return PolicyError(
        f"policy file {report.file} is not valid:\n{lines}\n(check it with: tearline policies lint {report.file})"
    )


def policy_from_data(data: object, source: str = "(policy data)") -> Policy:
    """The policy parsed policy data describes; a :class:`PolicyError` listing every problem if not."""
    report = check(data, source)
    if report.policy is None:
        raise _fail(report)
    return report.policy


def load_file(path: Path) -> Policy:
    """The policy a YAML file describes (problems carry line numbers)."""
    report = lint(path)
    if report.policy is None:
        raise _fail(report)
    return report.policy
