"""Decisions per second for every built-in policy, composed policies and a YAML rule set.

A benchmark, not a test. The workload is drawn from the scenarios themselves: every inject's
lead, background noise per agency, and assessments carrying third-party material (some ORCON),
each asked about every other agency — the questions the gateway asks in a run. Policies are asked
the way the gateway asks them (through :class:`tearline.policies.CachedPolicy`, which remembers a
decision by the key a policy declares from what it reads), and two workloads are reported apart:

- **non-repeating**: every question once, each lead distinct, with a fresh policy and cache per
  scenario — what one run costs;
- **repeated**: the same questions over and over for ``--seconds`` — a warm cache, so for
  policies that declare a key it mostly measures dictionary look-ups.

Rates are decisions per second of CPU time (``time.process_time``); ratios are against
``siloed`` in the same run, so they compare across machines.

    .venv/bin/python -m bench.policies [--seconds 0.5] [--noise 1500] [--scenario NAME ...] [--cedar]

``--cedar`` also compares a representative permit/forbid rule set written in Cedar (cedarpy,
``pip install cedarpy``) with the same rules as a Tearline YAML rule set: agreement and
decisions per second (docs/policies.md records the figures and the choice).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tearline import Contribution, Lead, RunConfig, Scenario, load_scenario
from tearline.model._log import configure
from tearline.model._paths import scenario_files
from tearline.policies import (
    BUILTIN,
    CachedPolicy,
    Ledger,
    Policy,
    PolicyContext,
    Route,
    load_policy,
    policy_from_data,
)
from tearline.policies._common import third_party_originators
from tearline.run._world import noise

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "siloed"
COMPOSED = {
    "composed: deny-overrides(bilateral, releasability, tlp, third-party-rule, approval-delay)": (
        "deny-overrides:of=bilateral+releasability+tlp+third-party-rule+approval-delay"
    ),
    "composed: first-applicable(bilateral only-release, tearline then bilateral)": str(
        ROOT / "policies" / "examples" / "tearline-fallback.yaml"
    ),
    "yaml rule set: liaison-rules (8 rules, first-applicable)": str(
        ROOT / "policies" / "examples" / "liaison-rules.yaml"
    ),
}

Question = tuple[Lead, Route, PolicyContext]


def workload(scenario: Scenario, rng: random.Random, noise_leads: int = 1500) -> list[Question]:
    """Every lead of the scenario (injects, the first ``noise_leads`` noise reports, assessments)
    × every other agency: distinct leads, as a run would meet them."""
    agencies = scenario.resolved
    config = RunConfig(scenario=scenario, policy=BASELINE, seed=rng.randrange(1000))
    leads = [scenario.lead_of(i) for i in scenario.injects]
    background = sorted(
        (o.lead for o in noise(config, agencies)), key=lambda lead: (lead.observed_at, lead.id)
    )
    leads += background[:noise_leads]
    for n, base in enumerate(list(leads[: len(scenario.injects)])):
        others = rng.sample(sorted(agencies), k=min(2, len(agencies)))
        parts = tuple(Contribution(agency=a, lead=f"x{n}", orcon=rng.random() < 0.5) for a in others)
        leads.append(base.model_copy(update={"id": f"{base.origin}-a{n}", "third_party": parts}))
    released: Counter[tuple[str, str]] = Counter()
    for _ in range(4 * len(agencies)):
        released[(rng.choice(sorted(agencies)), rng.choice(sorted(agencies)))] += 1
    ledger = Ledger(released=released)
    questions: list[Question] = []
    for lead in leads:
        ctx = PolicyContext(scenario, agencies, lead.observed_at + 3600, config.seed, ledger)
        for r in sorted(agencies):
            if r != lead.origin and lead.origin in agencies:
                questions.append((lead, Route(agencies[lead.origin], agencies[r]), ctx))
    return questions


def once(spec: str, workloads: Sequence[Sequence[Question]]) -> float:
    """Decisions per CPU second, each question asked once: a fresh policy per scenario (one run)."""
    done, cpu = 0, 0.0
    for questions in workloads:
        policy = CachedPolicy(load_policy(spec))
        started = time.process_time()
        for lead, route, ctx in questions:
            policy.decide(lead, route, ctx)
        cpu += time.process_time() - started
        done += len(questions)
    return done / cpu


def rate(policy: Policy, questions: Sequence[Question], seconds: float) -> float:
    """Decisions per CPU second: repeat the workload until ``seconds`` have passed."""
    for lead, route, ctx in questions[:50]:  # warm caches (e.g. misp-distribution's graph)
        policy.decide(lead, route, ctx)
    done = 0
    started = time.process_time()
    while True:
        for lead, route, ctx in questions:
            policy.decide(lead, route, ctx)
        done += len(questions)
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return done / elapsed


def policies_table(workloads: Sequence[Sequence[Question]], seconds: float) -> None:
    specs = {name: name for name in BUILTIN} | COMPOSED
    questions = [q for w in workloads for q in w]
    fresh = {label: once(spec, workloads) for label, spec in specs.items()}
    repeated = {
        label: rate(CachedPolicy(load_policy(spec)), questions, seconds) for label, spec in specs.items()
    }
    width = max(map(len, specs))
    print(
        f"{'policy':<{width}}  {'non-repeating/s':>15}  {'vs siloed':>9}  {'repeated/s':>12}  {'vs siloed':>9}  goal"
    )
    for label in specs:
        goal = 50_000 if label.startswith(("composed", "yaml")) else 200_000
        met = "met" if fresh[label] >= goal else "NOT met"
        print(
            f"{label:<{width}}  {fresh[label]:>15,.0f}  {fresh[label] / fresh[BASELINE]:>9.2f}  "
            f"{repeated[label]:>12,.0f}  {repeated[label] / repeated[BASELINE]:>9.2f}  ≥ {goal // 1000}k {met}"
        )


# -- Cedar comparison ---------------------------------------------------------------------------
CEDAR_POLICIES = """
@id("domestic partners in full")
permit (principal, action == Action::"release", resource) when { context.domestic };

@id("allies")
permit (principal, action == Action::"release", resource)
when { ["XN", "XS", "US", "GB", "FR", "BE", "IN"].contains(context.recipient_country) };

@id("NOFORN stays home")
forbid (principal, action == Action::"release", resource) when { context.noforn && !context.domestic };

@id("REL TO excludes the recipient")
forbid (principal, action == Action::"release", resource)
when { context.has_rel_to && !context.domestic && !context.rel_to.contains(context.recipient_country) };

@id("TLP:RED to named recipients only")
forbid (principal, action == Action::"release", resource)
when { context.tlp == "RED" && !context.named.contains(context.recipient) };

@id("ORCON material needs its originator")
forbid (principal, action == Action::"release", resource)
when { context.orcon_third_party && !context.consent_granted };
"""

YAML_POLICY = """
policy: cedar-equivalent
combine: deny-overrides
default: withhold
groups: {allies: [XN, XS, US, GB, FR, BE, IN]}
rules:
  - {name: domestic partners in full, match: {domestic: true}, action: release}
  - {name: allies, match: {recipient_in: allies}, action: release}
  - {name: NOFORN stays home, match: {caveats: {noforn: true}, domestic: false}, action: withhold}
  - {name: REL TO excludes the recipient, match: {caveats: {rel_to: excludes-recipient}}, action: withhold}
  - {name: TLP:RED to named recipients only, match: {tlp: RED, named: false}, action: withhold}
  - {name: ORCON material needs its originator, match: {third_party: true, caveats: {orcon: true}}, action: consult}
"""


def cedar_request(lead: Lead, route: Route, ctx: PolicyContext) -> dict[str, Any]:
    r = route.recipient
    granted = ctx.ledger.consents.get((lead.id, r.id)) == "grant"
    return {
        "principal": f'Agency::"{route.sender.id}"',
        "action": 'Action::"release"',
        "resource": f'Lead::"{lead.id}"',
        "context": {
            "domestic": route.domestic,
            "recipient": r.id,
            "recipient_country": r.country,
            "noforn": lead.caveats.noforn,
            "has_rel_to": lead.caveats.rel_to is not None,
            "rel_to": list(lead.caveats.rel_to or ()),
            "tlp": lead.tlp,
            "named": list(lead.named_recipients),
            # Cedar cannot compute "originators other than the recipient": Python does it here.
            "orcon_third_party": bool(third_party_originators(lead, r.id)) and lead.caveats.orcon,
            "consent_granted": granted,
        },
    }


def cedar_comparison(questions: Sequence[Question], seconds: float) -> None:
    try:
        import cedarpy
    except ImportError:
        print("\ncedarpy is not installed: .venv/bin/pip install cedarpy")
        return
    rng = random.Random(7)
    # Mark some leads so every rule fires somewhere.
    marked: list[Question] = []
    for lead, route, ctx in questions:
        caveats = lead.caveats.model_copy(
            update={
                "noforn": rng.random() < 0.2,
                "orcon": rng.random() < 0.3,
                "rel_to": rng.choice([None, None, ("US",), ("XN", "FR")]),
            }
        )
        changed = lead.model_copy(update={"caveats": caveats, "tlp": rng.choice(["RED", "AMBER", "GREEN"])})
        marked.append((changed, route, dataclasses.replace(ctx)))
    ours = policy_from_data(yaml.safe_load(YAML_POLICY))
    policy_set = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    requests = [cedar_request(*q) for q in marked]

    agree = 0
    for q, req in zip(marked, requests, strict=True):
        d = ours.decide(*q)
        ours_allows = d.action == "release"  # a consult is not (yet) a release
        allowed = cedarpy.is_authorized(req, policy_set, []).allowed
        agree += ours_allows == allowed
        if ours_allows != allowed:
            print(
                f"  differ: {q[0].id} {q[1].sender.id}->{q[1].recipient.id}: tearline {d.rule}, cedar {allowed}"
            )
    print(f"\nCedar vs Tearline YAML, same 6 permit/forbid rules, {len(marked)} questions")
    print(f"  agreement on release/withhold: {agree}/{len(marked)}")

    ours_rate = rate(ours, marked, seconds)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for req in requests[:500]:
            cedarpy.is_authorized(req, policy_set, [])
        n += min(500, len(requests))
    single = n / (time.perf_counter() - started)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        cedarpy.is_authorized_batch(requests, policy_set, [])
        n += len(requests)
    batch = n / (time.perf_counter() - started)
    # What the gateway would really do with Cedar: build the request from the lead, then ask.
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for q in marked[:500]:
            cedarpy.is_authorized(cedar_request(*q), policy_set, [])
        n += min(500, len(marked))
    with_build = n / (time.perf_counter() - started)
    print(f"  Tearline YAML rule set (deny-overrides): {ours_rate:>10,.0f} decisions/s")
    print(f"  cedarpy is_authorized, one call each:    {single:>10,.0f} decisions/s")
    print(f"  cedarpy ... incl. building the request:  {with_build:>10,.0f} decisions/s")
    print(f"  cedarpy is_authorized_batch:             {batch:>10,.0f} decisions/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=0.5, help="time per policy (default 0.5 s)")
    parser.add_argument("--scenario", action="append", help="scenario names (default: all)")
    parser.add_argument("--noise", type=int, default=1500, help="noise leads per scenario (default 1500)")
    parser.add_argument("--cedar", action="store_true", help="also compare with Cedar (needs cedarpy)")
    args = parser.parse_args()
    configure(level="error")
    rng = random.Random(1)
    paths = [p for p in scenario_files() if not args.scenario or p.stem in args.scenario]
    workloads = [workload(load_scenario(path), rng, args.noise) for path in paths]
    questions = [q for w in workloads for q in w]
    leads = len({id(lead) for lead, _, _ in questions})
    names = ", ".join(p.stem for p in paths)
    print(
        f"tearline policies benchmark: {len(questions)} questions (lead × recipient), {leads} distinct "
        f"leads, from {names}; decisions per CPU second"
    )
    policies_table(workloads, args.seconds)
    if args.cedar:
        cedar_comparison(questions, args.seconds)


if __name__ == "__main__":
    main()
