"""The clearance floor: the gateway's own step after the policy, whatever the policy said.

A recipient never receives material above its clearance, nor in a compartment it is not
accredited for. A release that would break this becomes a tearline written down to the
recipient's clearance (no source, method or compartments; a SIGINT lead's selectors dropped),
or is withheld, as the scenario's ``clearance`` terms say. The policy's verdict stays in the trail.
"""

from __future__ import annotations

from tearline.model import (
    ClearanceTerms,
    Decision,
    Lead,
    ResolvedAgency,
    Trail,
    apply_transforms,
    combine_transforms,
    tearline_for,
)

CLEARANCE_RULE = "clearance floor"


def clearance_floor(
    lead: Lead, decision: Decision, recipient: ResolvedAgency, terms: ClearanceTerms
) -> Decision:
    """``decision`` unchanged when the recipient may hold what it releases; otherwise a tearline at
    the recipient's clearance or a withholding, under the rule ``clearance floor``."""
    if decision.action != "release":
        return decision
    copy = apply_transforms(lead, decision.transforms)
    marking = copy.marking
    if marking.readable_by(recipient.clearance, recipient.accreditations):
        return decision
    cleared = f"{recipient.id} is cleared to {recipient.clearance}"
    if recipient.accreditations:
        cleared += f" ({'+'.join(recipient.accreditations)})"
    held = marking.level + (f" {'+'.join(marking.compartments)}" if marking.compartments else "")
    why = f"{cleared}; the copy is {held}"
    trail = Trail(_floored, "policy", decision)
    if terms.above == "withhold":
        return Decision.withhold(CLEARANCE_RULE, f"{why}: withheld", trail=trail)
    floor = tearline_for(lead, downgrade_to=recipient.clearance)
    return Decision.release(
        CLEARANCE_RULE,
        f"{why}: a tearline at {recipient.clearance} instead",
        delay=decision.delay + terms.delay,
        transforms=combine_transforms([decision.transforms, (floor,)]),
        trail=trail,
    )


def _floored(label: str, decision: Decision) -> tuple[str, ...]:
    """The trail of a floored decision: the policy's own verdict, then its trail."""
    return (f"{label}: {decision.verdict()}", *decision.trail)
