"""Agencies as services: triage, casework (linking and scoring), action and warning."""

from ._agency import AgencyService
from ._cases import Case, Casebook

__all__ = ["AgencyService", "Case", "Casebook"]
