"""A rule set: a policy written as data — ordered rules, each ``match → action``, combined by an algorithm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tearline.model import Decision, Lead, SisAlert, Tearline, Transform, human_duration

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route
from ._common import consent, listing, third_party_originators
from ._compose import Algorithm, Delays, Verdict, combine
from ._match import Predicate, compile_match
from ._schema import Rule, TransformSpec


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
            preds, said = compile_match(r.match, frozen)
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
