"""What ``tearline policies lint`` reports: errors and warnings about a policy document, located.

Errors (the policy is not built): groups a rule names that no enclosing document defines.
Warnings (it is built): repeated rule names, rules a catch-all before them makes unreachable,
consult rules that match leads without third-party material and — against a scenario — agency
ids and countries the scenario does not have. The schema's errors and the members that could not
be built are found by ``_loader`` and ``_compile``; the report collects them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tearline.model import Locator, PolicyError, Problem, Scenario, field_path

from ._base import Policy
from ._schema import Loc, Match, PolicyDoc

Finding = tuple[Loc, str]


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

    def error(self) -> PolicyError:
        """One error listing every problem, each as ``file:line: field: problem``."""
        lines = "\n".join(p.render(self.file) for p in self.errors)
        return PolicyError(
            f"policy file {self.file} is not valid:\n{lines}\n(check it with: tearline policies lint {self.file})"
        )


@dataclass
class Findings:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def check_doc(doc: PolicyDoc) -> Findings:
    """Errors and warnings in ``doc``'s rule sets, its inline members' included (they see their parents' groups)."""
    found = Findings()
    _walk(doc, (), {}, found)
    return found


def _walk(doc: PolicyDoc, loc: Loc, groups: Mapping[str, tuple[str, ...]], found: Findings) -> None:
    groups = {**groups, **doc.groups}
    _check_rules(doc, loc, groups, found)
    for i, m in enumerate(doc.members or ()):
        if isinstance(m, PolicyDoc):
            _walk(m, (*loc, "members", i), groups, found)


def _check_rules(doc: PolicyDoc, loc: Loc, groups: Mapping[str, tuple[str, ...]], found: Findings) -> None:
    seen: dict[str, int] = {}
    catch_all: int | None = None
    rules = doc.rules or ()
    for i, r in enumerate(rules):
        here = (*loc, "rules", i)
        if r.name in seen:
            found.warnings.append(((*here, "name"), f"rule name {r.name!r} repeats rule {seen[r.name]}'s"))
        seen.setdefault(r.name, i)
        for side in ("sender_in", "recipient_in"):
            for g in getattr(r.match, side) or ():
                if g not in groups:
                    known = ", ".join(sorted(groups)) or "none defined"
                    found.errors.append(((*here, "match", side), f"unknown group {g!r} (groups: {known})"))
        if (doc.combine or "first-applicable") == "first-applicable" and catch_all is not None:
            found.warnings.append(
                (here, f"unreachable: rule {catch_all} ({rules[catch_all].name!r}) matches everything first")
            )
        if r.match == Match() and catch_all is None:
            catch_all = i
        if r.action == "consult" and r.match.third_party is not True:
            found.warnings.append(
                ((*here, "match"), "a consult rule asks the originator of third-party material; "
                 "add third_party: true so it matches only leads that carry some")
            )  # fmt: skip


def against(data: object, scenario: Scenario, locate: Locator) -> list[Problem]:
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
