"""``misp-distribution``: MISP's distribution levels, for comparison with intelligence practice.

Source: MISP (Malware Information Sharing Platform) user guide, "Distribution" — an event's
distribution is one of:

- *Your organisation only* — nobody outside the creating organisation;
- *This community only* — every organisation on this MISP instance, and the hosting
  organisations of the instances that synchronise with it;
- *Connected communities* — every organisation on this instance and on the instances that
  synchronise with it, and the hosting organisations of instances two hops away;
- *All communities* — everyone, propagated without limit;
- *Sharing group* — the organisations (and instances) a named sharing group lists.

Each synchronisation hop lowers the level by one (connected → community → organisation), which
is why the last hop reaches only the hosting organisation.

In a run: each agency is an organisation; by default each country runs one instance
(``instances=country``; or ``instances=hub:IN+US/spoke:GB``, agencies or countries per
instance) whose host is the first of its agencies in the scenario (``hosts=IN:IB+US:CIA`` to
choose). Instances synchronise along the scenario's treaties (``links=treaties``; ``mesh``,
``none``, or ``IN~US+US~GB``). The level comes from the lead's TLP (``level=tlp``: CLEAR → all,
GREEN → connected, AMBER → community, AMBER+STRICT → organisation, RED → an ad-hoc sharing group
of the named recipients), or is fixed for every lead (``level=community``, ``level=group:NAME``
with ``groups=NAME:A+B/OTHER:C``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping, Sequence

from tearline.model import TLP, Decision, Lead, PolicyError, ResolvedAgency, Scenario

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route

LEVELS: tuple[str, ...] = ("organisation", "community", "connected", "all")
_NAMES = {"organisation": "your organisation only", "community": "this community only",
          "connected": "connected communities", "all": "all communities"}  # fmt: skip
_FROM_TLP: dict[TLP, str] = {
    "CLEAR": "all",
    "GREEN": "connected",
    "AMBER": "community",
    "AMBER+STRICT": "organisation",
    "RED": "group",
}


def _table(policy: str, option: str, value: object) -> dict[str, tuple[str, ...]]:
    """``a:X+Y/b:Z`` or a YAML mapping → ``{"a": ("X", "Y"), "b": ("Z",)}``."""
    if isinstance(value, Mapping):
        return {str(k): opt.items(policy, f"{option}.{k}", v) for k, v in value.items()}
    if not isinstance(value, str):
        raise PolicyError(f"{policy}: option {option}={value!r} is not NAME:A+B/NAME:C")
    out: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (p.strip() for p in value.split("/"))):
        name, colon, members = part.partition(":")
        if not colon or not name.strip():
            raise PolicyError(f"{policy}: option {option}: {part!r} is not NAME:A+B")
        out[name.strip()] = opt.items(policy, option, members)
    return out


class _Graph:
    """Instances, their hosts and the synchronisation links, for one set of agencies."""

    def __init__(
        self, policy: MispDistribution, scenario: Scenario, agencies: Mapping[str, ResolvedAgency]
    ) -> None:
        def members(party: str) -> list[str]:
            if party in agencies:
                return [party]
            return [a for a in agencies if agencies[a].country == party]

        self.instance: dict[str, str] = {}
        if policy.instances is None:
            self.instance = {a.id: a.country for a in agencies.values()}
        else:
            for name, parties in policy.instances.items():
                for p in parties:
                    for member in members(p):
                        self.instance.setdefault(member, name)
            for agency_id in agencies:
                self.instance.setdefault(agency_id, agency_id)
        self.hosts: dict[str, str] = {}
        for a in scenario.agencies:  # scenario order: the first agency of an instance hosts it
            if a.id in self.instance:
                self.hosts.setdefault(self.instance[a.id], a.id)
        for inst, host in policy.hosts.items():
            self.hosts[inst] = host
        self._hops: dict[tuple[str, str], int | None] = {}
        names = sorted(set(self.instance.values()))
        self.links: dict[str, set[str]] = {n: set() for n in names}

        def link(x: str, y: str) -> None:
            if x != y and x in self.links and y in self.links:
                self.links[x].add(y)
                self.links[y].add(x)

        if policy.links == "treaties":
            for t in scenario.treaties:
                left, right = ({self.instance[a] for a in members(p)} for p in t.between)
                for x in left:
                    for y in right:
                        link(x, y)
        elif policy.links == "mesh":
            for x in names:
                for y in names:
                    link(x, y)
        elif policy.links != "none":
            for x, y in policy.link_pairs:
                link(x, y)

    def hops(self, a: str, b: str) -> int | None:
        """Synchronisation hops from ``a``'s instance to ``b``'s (``None``: not connected); each
        pair of instances is searched once."""
        pair = (self.instance[a], self.instance[b])
        if pair not in self._hops:
            self._hops[pair] = self._search(*pair)
        return self._hops[pair]

    def _search(self, start: str, goal: str) -> int | None:
        seen = {start: 0}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == goal:
                return seen[here]
            for nxt in sorted(self.links[here]):
                if nxt not in seen:
                    seen[nxt] = seen[here] + 1
                    queue.append(nxt)
        return None


class MispDistribution(BasePolicy):
    name = "misp-distribution"
    summary = "MISP's model: organisation, community, connected (one step down per hop), all, sharing groups."

    def __init__(
        self,
        level: opt.Option = "tlp",
        instances: object = "country",
        hosts: object = None,
        links: object = "treaties",
        groups: object = None,
    ) -> None:
        if not isinstance(level, str) or not (level in {"tlp", *LEVELS} or level.startswith("group:")):
            raise PolicyError(
                f"{self.name}: option level={level!r} is not one of tlp, {', '.join(LEVELS)}, group:NAME"
            )
        self.level = level
        self.instances = None if instances == "country" else _table(self.name, "instances", instances)
        self.hosts = {k: v[0] for k, v in _table(self.name, "hosts", hosts).items() if v} if hosts else {}
        self.groups = _table(self.name, "groups", groups) if groups else {}
        if level.startswith("group:") and level[6:] not in self.groups:
            known = ", ".join(self.groups) or "none; define them with groups=NAME:A+B"
            raise PolicyError(f"{self.name}: level={level} names an unknown sharing group (groups: {known})")
        self.link_pairs: list[tuple[str, str]] = []
        if isinstance(links, str) and links in {"treaties", "mesh", "none"}:
            self.links = links
        else:
            self.links = "pairs"
            pairs: Sequence[object] = links.split("+") if isinstance(links, str) else links  # type: ignore[assignment]
            for pair in pairs:
                parts = pair.split("~") if isinstance(pair, str) else list(pair)  # type: ignore[call-overload]
                if len(parts) != 2:
                    raise PolicyError(f"{self.name}: option links: {pair!r} is not A~B")
                self.link_pairs.append((str(parts[0]).strip(), str(parts[1]).strip()))
        self._graphs: dict[tuple[int, frozenset[str]], tuple[Scenario, _Graph]] = {}
        self._last: tuple[Scenario, Mapping[str, ResolvedAgency], _Graph] | None = None

    def _graph(self, ctx: PolicyContext) -> _Graph:
        """The instance graph for this run's scenario and agencies (derived once, then reused)."""
        last = self._last
        if last is not None and last[0] is ctx.scenario and last[1] is ctx.agencies:
            return last[2]
        key = (id(ctx.scenario), frozenset(ctx.agencies))
        cached = self._graphs.get(key)
        if cached is None or cached[0] is not ctx.scenario:
            cached = self._graphs[key] = (ctx.scenario, _Graph(self, ctx.scenario, ctx.agencies))
        self._last = (ctx.scenario, ctx.agencies, cached[1])
        return cached[1]

    def cache_key(self, lead: Lead, route: Route) -> Hashable:
        """It reads the route and, under ``level=tlp``, the lead's TLP, and for TLP:RED (an ad-hoc
        sharing group) the lead's origin and named recipients (and the instance graph, fixed for a run)."""
        s, r = route.sender.id, route.recipient.id
        if self.level != "tlp":
            return s, r
        if lead.tlp == "RED":
            return s, r, "RED", lead.origin, lead.named_recipients
        return s, r, lead.tlp

    def distribution(
        self, lead: Lead, agencies: Mapping[str, ResolvedAgency]
    ) -> tuple[str, str | None, tuple[str, ...]]:
        """How MISP would distribute ``lead`` under these settings: the level (organisation, community,
        connected, all or group) and, for a sharing group, its name and member agencies (sorted)."""
        level = _FROM_TLP[lead.tlp] if self.level == "tlp" else self.level
        if level == "group":
            return "group", "ad-hoc (named recipients)", tuple(sorted({lead.origin, *lead.named_recipients}))
        if level.startswith("group:"):
            name = level[6:]
            members = {a.id for p in self.groups[name] for a in agencies.values() if p in {a.id, a.country}}
            return "group", name, tuple(sorted(members))
        return level, None, ()

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender.id, route.recipient.id
        level = _FROM_TLP[lead.tlp] if self.level == "tlp" else self.level
        source = f" (from TLP:{lead.tlp})" if self.level == "tlp" else ""
        if level == "group" or level.startswith("group:"):
            if level == "group":
                name, members = "ad-hoc (named recipients)", {lead.origin, *lead.named_recipients}
            else:
                name = level[6:]
                members = {a for p in self.groups[name] for a in ctx.members(p)}
            rule = f"misp-distribution: sharing group {name}"
            if s in members and r in members:
                return Decision.release(rule, f"{s} and {r} are both in sharing group {name}{source}")
            return Decision.withhold(rule, f"{r} is not in sharing group {name}{source}")
        rule = f"misp-distribution: {_NAMES[level]}"
        if level == "all":
            return Decision.release(rule, f"all communities{source}: propagated without limit")
        if level == "organisation":
            return Decision.withhold(rule, f"your organisation only{source}: stays within {s}")
        graph = self._graph(ctx)
        hops = graph.hops(s, r)
        reach = LEVELS.index(level)  # community 1, connected 2
        where = f"{r}'s instance {graph.instance[r]}"
        if hops is None:
            return Decision.withhold(rule, f"{where} is not connected to {graph.instance[s]}{source}")
        if hops <= reach - 1:
            return Decision.release(rule, f"{where} is {hops} hop(s) from {graph.instance[s]}{source}")
        if hops == reach and graph.hosts.get(graph.instance[r]) == r:
            return Decision.release(
                rule,
                f"{r} hosts {graph.instance[r]}, {hops} hop(s) away: the copy arrives as organisation-only{source}",
            )
        return Decision.withhold(
            rule,
            f"{where} is {hops} hop(s) from {graph.instance[s]}; {_NAMES[level]} reaches {reach - 1} hop(s), "
            f"and the next hop's host only{source}",
        )
