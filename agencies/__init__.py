"""Agencies as services: triage, casework (linking and scoring), action and warning."""

from ._agency import AgencyService
from ._cases import FACET_STRENGTH, MAX_WEAK_HITS, Case, Casebook, LeadLink
from ._links import STRENGTH, Link, identifier_link, lead_link, name_form, sound

__all__ = [
    "FACET_STRENGTH",
    "MAX_WEAK_HITS",
    "STRENGTH",
    "AgencyService",
    "Case",
    "Casebook",
    "LeadLink",
    "Link",
    "identifier_link",
    "lead_link",
    "name_form",
    "sound",
]
