"""Decisions: what a policy says about one lead for one recipient, and why."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._lead import AgencyId, Hop, IdentifierKind, Lead, Level, LEVELS, Marking, Source
from ._model import Model

Action = Literal["release", "withhold", "consult"]
_PERSON_KINDS = frozenset({"person", "alias", "passport"})


class Tearline(Model):
    """Release a sanitised copy: source method removed, optionally downgraded, identifiers filtered."""

    kind: Literal["tearline"] = "tearline"
    downgrade_to: Level | None = None
    keep: tuple[IdentifierKind, ...] | None = None
    """Identifier kinds kept; ``None`` keeps all."""


class SisAlert(Model):
    """Schengen-style alert: only person identifiers and an alert category cross."""

    kind: Literal["sis-alert"] = "sis-alert"
    category: Literal["discreet-check", "specific-check", "terrorism-marker"] = "discreet-check"


Transform = Annotated[Tearline | SisAlert, Field(discriminator="kind")]


class Decision(Model):
    """The verdict for one lead and one recipient, with the rule that fired and its reason."""

    action: Action
    rule: str
    """Which rule decided, e.g. ``bilateral: treaty 'Indo-US CT' (IN-US)``."""
    reason: str
    delay: Annotated[int, Field(ge=0)] = 0
    transforms: tuple[Transform, ...] = ()
    consult: AgencyId | None = None
    """For ``consult``: whose consent is needed (the originator of third-party material)."""
    trail: tuple[str, ...] = ()
    """For composed policies: each member's verdict, in evaluation order."""

    @classmethod
    def release(cls, rule: str, reason: str, *, delay: int = 0, transforms: tuple[Transform, ...] = ()) -> Decision:
        return cls(action="release", rule=rule, reason=reason, delay=delay, transforms=transforms)

    @classmethod
    def withhold(cls, rule: str, reason: str) -> Decision:
        return cls(action="withhold", rule=rule, reason=reason)


def apply_transforms(lead: Lead, transforms: tuple[Transform, ...]) -> Lead:
    """The copy a recipient receives. A sanitised copy links back to its original."""
    out = lead
    for t in transforms:
        if isinstance(t, Tearline):
            marking = out.marking
            if t.downgrade_to is not None and LEVELS.index(t.downgrade_to) < marking.rank:
                marking = Marking(level=t.downgrade_to, national=f"{marking.national} (tearline)".strip())
            ids = out.identifiers if t.keep is None else tuple(i for i in out.identifiers if i.kind in t.keep)
            out = out.model_copy(
                update={
                    "identifiers": ids,
                    "marking": marking,
                    "source": Source(type=out.source.type, sensitivity="low", method=None),
                    "detail": out.summary,
                    "sanitised_from": out.sanitised_from or lead.id,
                }
            )
        else:
            out = out.model_copy(
                update={
                    "identifiers": tuple(i for i in out.identifiers if i.kind in _PERSON_KINDS),
                    "indicators": (),
                    "source": Source(type=out.source.type, sensitivity="low", method=None),
                    "summary": f"SIS alert ({t.category})",
                    "detail": f"SIS alert ({t.category})",
                    "sanitised_from": out.sanitised_from or lead.id,
                }
            )
    return out


def forward(lead: Lead, decision: Decision, sender: AgencyId, recipient: AgencyId, at: int) -> Lead:
    """The copy delivered to ``recipient``: transformed, with one more provenance hop."""
    copy = apply_transforms(lead, decision.transforms)
    hop = Hop(sender=sender, recipient=recipient, at=at, rule=decision.rule, sanitised=bool(decision.transforms))
    return copy.model_copy(update={"provenance": (*lead.provenance, hop)})
