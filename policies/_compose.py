"""Composition: several policies, one decision — by XACML's combining algorithms.

Every member decides; each verdict goes into the decision's ``trail`` (written when first read).
Members whose decision is *not applicable* (they have nothing to say about this lead and route,
e.g. ``releasability`` on an unmarked lead) are skipped by the algorithm. Of the applicable
verdicts:

- ``deny-overrides``: any withhold → withhold; else any consult → consult (if every consult asks
  the same originator; several different originators → withhold); else any release → release.
- ``permit-overrides``: any release → release; else any consult → consult (same rule); else any
  withhold → withhold.
- ``first-applicable``: the first applicable member's verdict, as it stands.

When the result is release, the obligations of every member that released are combined (as in
XACML, where the obligations of all policies with the winning effect apply): the *most
restrictive transform wins* (one tearline, as strict as any asked for; one SIS alert) and the
delay is the longest (``delays=max``, default), the sum (``delays=sum``: consecutive steps,
e.g. approval then a treaty's channel) or the shortest (``delays=min``: the fastest path).
For first-applicable only the deciding member's obligations apply.

When no member applies, the composite does not apply either, and its action is its ``default``
(withhold unless set). The ``rule`` of a composed decision is the rule of the member that decided;
its ``reason`` adds which algorithm chose it and why.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Literal, TypedDict

from tearline.model import Decision, Lead, PolicyError, Scenario, Trail, combine_transforms

from . import _options as opt
from ._base import BasePolicy, Policy, PolicyContext, Route
from ._cache import CachedPolicy, KeyOf

Algorithm = Literal["deny-overrides", "permit-overrides", "first-applicable"]
ALGORITHMS: tuple[Algorithm, ...] = ("deny-overrides", "permit-overrides", "first-applicable")
Delays = Literal["max", "sum", "min"]
DELAYS: tuple[Delays, ...] = ("max", "sum", "min")
Verdict = tuple[str, Decision]


def trail_of(verdicts: Iterable[Verdict]) -> tuple[str, ...]:
    """Each member's verdict, nested trails indented under their member with ``›``."""
    out: list[str] = []
    for label, d in verdicts:
        out.append(f"{label}: {d.verdict()}")
        out.extend(f"{label} › {t}" for t in d.trail)
    return tuple(out)


def _written(labels: Sequence[str], decisions: Sequence[Decision]) -> tuple[str, ...]:
    return trail_of(zip(labels, decisions, strict=True))


def _consult(algorithm: str, consults: Sequence[Verdict], trail: Trail) -> Decision:
    originators = sorted({d.consult for _, d in consults if d.consult is not None})
    label, first = consults[0]
    if len(originators) == 1:
        return Decision.ask(
            first.rule, f"{first.reason} [{algorithm}: {label} needs consent]", originators[0], trail=trail
        )
    return Decision.withhold(
        first.rule,
        f"{first.reason} [{algorithm}: consent needed from {' and '.join(originators)}; the gateway asks one "
        "originator per release]",
        trail=trail,
    )


def _release(algorithm: str, releases: Sequence[Verdict], delays: Delays, trail: Trail) -> Decision:
    label, first = releases[0]
    if len(releases) == 1:
        return Decision.release(
            first.rule,
            f"{first.reason} [{algorithm}: {label} releases]",
            delay=first.delay,
            transforms=combine_transforms((first.transforms,)) if first.transforms else (),
            trail=trail,
        )
    values = [d.delay for _, d in releases]
    delay = max(values) if delays == "max" else sum(values) if delays == "sum" else min(values)
    transforms = combine_transforms(d.transforms for _, d in releases)
    notes = [f"{len(releases)} members release"]
    slow = [lb for lb, d in releases if d.delay == delay and d.delay] if delays != "sum" else []
    if delay and slow:
        notes.append(f"delay from {slow[0]}")
    elif delay:
        notes.append("delays added")
    shaped = [lb for lb, d in releases if d.transforms]
    if shaped:
        notes.append(f"transforms from {', '.join(shaped)}")
    return Decision.release(
        first.rule,
        f"{first.reason} [{algorithm}: {'; '.join(notes)}]",
        delay=delay,
        transforms=transforms,
        trail=trail,
    )


def combine(
    algorithm: Algorithm,
    verdicts: Sequence[Verdict],
    *,
    name: str,
    default: opt.Default = "withhold",
    delays: Delays = "max",
) -> Decision:
    """One decision from the members' verdicts (see the module docstring); its ``trail`` is written
    from the verdicts when it is first read."""
    labels = tuple(label for label, _ in verdicts)
    decisions = tuple(d for _, d in verdicts)
    return _combine(algorithm, labels, decisions, name=name, default=default, delays=delays)


def _combine(
    algorithm: Algorithm,
    labels: tuple[str, ...],
    decisions: tuple[Decision, ...],
    *,
    name: str,
    default: opt.Default,
    delays: Delays,
) -> Decision:
    """:func:`combine` for members' labels and their decisions, which the trail keeps (and nothing else)."""
    trail = Trail(_written, labels, decisions)
    applicable: list[Verdict] = []
    releases: list[Verdict] = []
    withholds: list[Verdict] = []
    consults: list[Verdict] = []
    for v in zip(labels, decisions, strict=True):
        d = v[1]
        if d.applicable:
            applicable.append(v)
            action = d.action
            (releases if action == "release" else withholds if action == "withhold" else consults).append(v)
    if not applicable:
        return Decision.not_applicable(
            f"{name}: none applicable",
            f"no member of {name} applies; default {default}",
            default=default,
            trail=trail,
        )
    if algorithm == "first-applicable":
        label, d = applicable[0]
        return d.model_copy(update={"reason": f"{d.reason} [first-applicable: {label}]", "trail": trail})
    if algorithm == "deny-overrides" and withholds:
        label, d = withholds[0]
        others = len(applicable) - 1
        return Decision.withhold(
            d.rule,
            f"{d.reason} [deny-overrides: {label} withholds, overriding {others} other(s)]",
            trail=trail,
        )
    if algorithm == "permit-overrides" and releases:
        return _release(algorithm, releases, delays, trail)
    if consults:
        return _consult(algorithm, consults, trail)
    if releases:
        return _release(algorithm, releases, delays, trail)
    label, d = withholds[0]
    return Decision.withhold(
        d.rule, f"{d.reason} [{algorithm}: {label} withholds; nothing releases]", trail=trail
    )


def _labels(members: Sequence[Policy]) -> list[str]:
    counts: dict[str, int] = {}
    out = []
    for m in members:
        counts[m.name] = counts.get(m.name, 0) + 1
        out.append(m.name if counts[m.name] == 1 else f"{m.name}#{counts[m.name]}")
    return out


class Composite(BasePolicy):
    """Members combined by an algorithm; see the module docstring."""

    def __init__(
        self,
        algorithm: Algorithm,
        members: Sequence[Policy],
        *,
        name: str | None = None,
        summary: str | None = None,
        default: opt.Default = "withhold",
        delays: Delays = "max",
    ) -> None:
        if not members:
            raise PolicyError(f"{name or algorithm}: a composition needs at least one member policy")
        for m in members:
            if not isinstance(m, Policy):
                raise PolicyError(
                    f"{name or algorithm}: member {m!r} is not a policy; build it first "
                    "(tearline.policies.load_policy)"
                )
        self.algorithm = algorithm
        self.members = tuple(members)
        self.labels = _labels(self.members)
        self._labels = tuple(self.labels)
        self.name = name or algorithm
        self.summary = summary or f"{algorithm} of {', '.join(self.labels)}"
        self.default = default
        self.delays = delays
        keys = [getattr(m, "cache_key", None) for m in self.members]
        self._member_keys: tuple[KeyOf, ...] = tuple(k for k in keys if k is not None)
        self._keyed = len(self._member_keys) == len(keys)
        # Members that declare what they read are asked once per distinct question; the others
        # are asked every time, directly.
        cached = {i: CachedPolicy(m) for i, (m, k) in enumerate(zip(self.members, keys, strict=True)) if k}
        self._deciders: tuple[Policy, ...] = tuple(cached.get(i, m) for i, m in enumerate(self.members))
        self._cached: tuple[CachedPolicy, ...] = tuple(cached.values())

    @property
    def cache_key(self) -> KeyOf | None:
        """Declared when every member declares one (a property, so the policy holds no reference to itself)."""
        return self._key if self._keyed else None

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return frozenset().union(*(m.enables(scenario) for m in self.members))

    def _key(self, lead: Lead, route: Route) -> tuple[Hashable, ...]:
        """Every member declares what it reads: the composite reads what they read together."""
        return tuple(k(lead, route) for k in self._member_keys)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        decisions = tuple([m.decide(lead, route, ctx) for m in self._deciders])
        return _combine(
            self.algorithm, self._labels, decisions, name=self.name, default=self.default, delays=self.delays
        )

    def decide_keyed(self, key: Hashable, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        """``decide`` with the composite's key already computed: it holds each member's key, in order."""
        assert isinstance(key, tuple) and self._keyed
        decisions = tuple(
            [m.decide_keyed(k, lead, route, ctx) for m, k in zip(self._cached, key, strict=True)]
        )
        return _combine(
            self.algorithm, self._labels, decisions, name=self.name, default=self.default, delays=self.delays
        )

    def __repr__(self) -> str:
        return f"<policy {self.name}: {self.summary}>"


class DenyOverrides(Composite):
    """Combinator: any withhold wins; release only if every applicable member releases."""

    summary = "Combinator: withhold if any member withholds (needs of=A+B+...)."

    def __init__(
        self, of: Sequence[Policy], default: opt.Option = "withhold", delays: opt.Option = "max"
    ) -> None:
        super().__init__("deny-overrides", of, **_options("deny-overrides", default, delays))


class PermitOverrides(Composite):
    """Combinator: any release wins."""

    summary = "Combinator: release if any member releases (needs of=A+B+...)."

    def __init__(
        self, of: Sequence[Policy], default: opt.Option = "withhold", delays: opt.Option = "max"
    ) -> None:
        super().__init__("permit-overrides", of, **_options("permit-overrides", default, delays))


class FirstApplicable(Composite):
    """Combinator: the first member that applies decides."""

    summary = "Combinator: the first member that applies decides (needs of=A+B+...)."

    def __init__(
        self, of: Sequence[Policy], default: opt.Option = "withhold", delays: opt.Option = "max"
    ) -> None:
        super().__init__("first-applicable", of, **_options("first-applicable", default, delays))


class _Options(TypedDict):
    default: opt.Default
    delays: Delays


def _options(algorithm: Algorithm, default: opt.Option, delays: opt.Option) -> _Options:
    """A combinator's ``default`` and ``delays`` options, checked (from a spec they arrive as strings)."""
    return {
        "default": opt.choice(algorithm, "default", default, opt.DEFAULTS),
        "delays": opt.choice(algorithm, "delays", delays, DELAYS),
    }


class Only(BasePolicy):
    """A member that counts for one effect only: its other verdicts become *not applicable*.

    ``Only(bilateral, "release")`` releases where bilateral releases and otherwise has nothing to
    say — XACML's policy with only permit rules. Under first-applicable it gives "this, else that":
    ``first-applicable`` of ``bilateral`` (releases only) and ``tearline:then=bilateral`` sends the
    original where a treaty covers it and a tearline where only the tearline fits. Consults pass.
    """

    def __init__(self, policy: Policy, effect: opt.Default) -> None:
        self.policy = policy
        self.effect = effect
        self.cache_key: KeyOf | None = getattr(policy, "cache_key", None)
        """Its verdict follows the member's: it reads what the member reads."""
        self.name = policy.name
        self.summary = f"{policy.summary} (its {effect} verdicts only)"

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return self.policy.enables(scenario)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        d = self.policy.decide(lead, route, ctx)
        if d.action in (self.effect, "consult") or not d.applicable:
            return d
        return d.model_copy(
            update={"applicable": False, "reason": f"{d.reason} (counts only when it would {self.effect})"}
        )
