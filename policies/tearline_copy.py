"""``tearline``: release a sanitised copy — source and method removed, downgraded, linked back.

Source: "tearline" reporting — the releasable portion below the line of an intelligence report,
written at a lower classification without sources and methods so it can go to partners and to
police (the US Intelligence Reform and Terrorism Prevention Act 2004 §1016 and EO 13388 push
for it; NATO and EU liaison use the same practice). Every copy:

- drops the source's method and sensitivity and the full text (only the releasable summary
  stays), so nothing in it points at how it was collected;
- is downgraded to ``downgrade_to`` (default RESTRICTED) when the original is higher;
- keeps the identifiers ``keep`` lists (default: all) minus those ``drop`` lists; with
  ``selectors=drop-sigint`` (default) a SIGINT lead's communications selectors (phone, SIM,
  VoIP, e-mail, account) are dropped as well, because passing them would reveal what was
  tasked (``selectors=keep`` keeps them, ``selectors=drop`` always drops them);
- carries ``sanitised_from`` = the original lead's id, so it links back to the original.

Standing alone it releases such a copy to every agency after ``delay`` (default 0: writing the
tearline is assumed done with the report). With ``then=POLICY`` it asks that policy about the
*copy* instead — e.g. ``tearline:then=bilateral`` sends a tearline wherever a treaty covers the
copy's downgraded level. (In Python ``then`` is a built policy: ``TearlineCopy(then=Bilateral())``;
the registry builds it from the name in a spec.)
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple, get_args

from tearline.model import (
    Decision,
    Lead,
    PolicyError,
    Scenario,
    SelectorRule,
    Tearline,
    Trail,
    Transform,
    apply_transforms,
    combine_transforms,
    describe_transform,
    tearline_for,
)

from . import _options as opt
from ._base import BasePolicy, Policy, PolicyContext, Route
from ._cache import CachedPolicy, KeyOf


class TearlineCopy(BasePolicy):
    name = "tearline"
    summary = "Release a sanitised copy (no source or method, downgraded, identifiers filtered) linked back."

    def __init__(
        self,
        downgrade_to: opt.Option = "RESTRICTED",
        keep: opt.Option = None,
        drop: opt.Option = None,
        selectors: opt.Option = "drop-sigint",
        delay: opt.Option = "0",
        then: Policy | None = None,
    ) -> None:
        self.downgrade_to = opt.level(self.name, "downgrade_to", downgrade_to)
        self.keep = opt.identifier_kinds(self.name, "keep", keep) if keep is not None else None
        self.drop = opt.identifier_kinds(self.name, "drop", drop)
        self.selectors: SelectorRule = opt.choice(self.name, "selectors", selectors, get_args(SelectorRule))
        self.delay = opt.duration(self.name, "delay", delay)
        if then is not None and not isinstance(then, Policy):
            raise PolicyError(
                f"{self.name}: option then={then!r} is not a policy; build it first (tearline.policies.load_policy)"
            )
        self.then = then
        self._last: _Cut | None = None
        self._then_key: KeyOf | None = getattr(then, "cache_key", None)
        self._then = CachedPolicy(then) if then is not None else None
        """``then``, asked once per distinct question about a copy if it declares what it reads."""

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return self.then.enables(scenario) if self.then is not None else frozenset()

    def transform(self, lead: Lead) -> Tearline:
        return tearline_for(
            lead, downgrade_to=self.downgrade_to, keep=self.keep, drop=self.drop, selectors=self.selectors
        )

    def _cut(self, lead: Lead) -> _Cut:
        """The tearline for ``lead``, its description and the copy: one per lead, whoever receives it
        (the gateway asks about one lead for every recipient in turn, so the last lead's is kept)."""
        cut = self._last
        if cut is None or cut.lead is not lead:
            t = self.transform(lead)
            copy = apply_transforms(lead, (t,)) if self.then is not None else lead
            what = f"sanitised copy: source and method removed, {describe_transform(t)}"
            cut = self._last = _Cut(lead, t, what, copy, combine_transforms([(t,)]))
        return cut

    @property
    def cache_key(self) -> KeyOf | None:
        """Declared unless ``then`` declares none (a property, so the policy holds no reference to itself)."""
        return self._key if self.then is None or self._then_key is not None else None

    def _key(self, lead: Lead, route: Route) -> Hashable:
        """It reads the lead's source type (which selectors a tearline drops) and, with ``then``,
        what that policy reads of the copy."""
        if self._then_key is None:
            return lead.source.type
        return lead.source.type, self._then_key(self._cut(lead).copy, route)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return self._decide(lead, route, ctx, None)

    def decide_keyed(self, key: Hashable, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        """``decide`` with the key already computed: with ``then``, it holds that policy's key for the copy."""
        return self._decide(lead, route, ctx, key[1] if isinstance(key, tuple) else None)

    def _decide(self, lead: Lead, route: Route, ctx: PolicyContext, then_key: Hashable) -> Decision:
        cut = self._cut(lead)
        t, what = cut.tearline, cut.what
        if self._then is None:
            return Decision.release(
                "tearline", f"{what}, for every agency", delay=self.delay, transforms=(t,)
            )
        if self._then_key is None:
            inner = self._then.decide(cut.copy, route, ctx)
        else:
            if then_key is None:
                then_key = self._then_key(cut.copy, route)
            inner = self._then.decide_keyed(then_key, cut.copy, route, ctx)
        rule = f"tearline then {inner.rule}"
        trail = Trail(_on_the_copy, self._then.name, inner)
        if inner.action == "release":
            return Decision.release(
                rule,
                f"{what}; {inner.reason}",
                delay=self.delay + inner.delay,
                transforms=combine_transforms([(t,), inner.transforms]) if inner.transforms else cut.alone,
                applicable=inner.applicable,
                trail=trail,
            )
        if inner.action == "consult" and inner.consult is not None:
            return Decision.ask(rule, f"{what}; {inner.reason}", inner.consult, trail=trail)
        return Decision.withhold(
            rule, f"even a {what}: {inner.reason}", applicable=inner.applicable, trail=trail
        )


def _on_the_copy(then: str, inner: Decision) -> tuple[str, ...]:
    return (f"{then} (on the copy): {inner.verdict()}",)


class _Cut(NamedTuple):
    lead: Lead
    tearline: Tearline
    what: str
    copy: Lead
    alone: tuple[Transform, ...]
    """The transforms of a release when ``then`` asks for none of its own."""
