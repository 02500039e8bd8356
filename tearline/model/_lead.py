"""Leads: what one agency knows and may share, and the markings that govern its release."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from ._base import Model
from ._time import Time

AgencyId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{0,23}$")]
"""Upper case, digits and hyphens, e.g. ``IB``, ``BE-FEDPOL``. Also used in topic names."""

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, e.g. ``IN``, ``FR``."""

IdentifierKind = Literal[
    "person", "alias", "phone", "sim", "voip", "email", "account", "vessel",
    "passport", "vehicle", "address", "venue",
]  # fmt: skip
IDENTITY_KINDS: frozenset[str] = frozenset({"person", "alias", "passport", "vessel", "vehicle"})
"""Identifier kinds that say who (or what conveyance) to stop: what an interdiction needs."""
SELECTOR_KINDS: frozenset[str] = frozenset({"phone", "sim", "voip", "email", "account"})
"""Communications selectors: they link leads, but nobody can be stopped on a number alone."""
PLACE_KINDS: frozenset[str] = frozenset({"venue", "address"})
"""Identifier kinds that point at where."""

IndicatorKind = Literal["intent", "travel", "recon", "comms", "purchase", "funding", "target", "timing"]

Level = Literal["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"]
LEVELS: tuple[Level, ...] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET")
"""The common classification ladder, lowest first. National markings map onto it."""

Compartment = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{0,15}$")]
"""A control system on top of the level, e.g. ``SI`` (signals intelligence), ``HCS`` (human sources)."""

TLP = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
Reliability = Literal["A", "B", "C", "D", "E", "F"]
SourceType = Literal[
    "HUMINT", "SIGINT", "LIAISON", "OSINT", "GEOINT", "POLICE", "BORDER", "DIPLOMATIC", "WALK-IN"
]
Sensitivity = Literal["low", "moderate", "high", "critical"]
SENSITIVITY_WEIGHT: dict[str, float] = {"low": 0.0, "moderate": 1.0, "high": 3.0, "critical": 9.0}
"""Exposure cost of releasing a source of each sensitivity unsanitised (an assumption; see docs)."""


def _normalise(value: object) -> object:
    return " ".join(value.lower().split()) if isinstance(value, str) else value


class Identifier(Model):
    """A selector that can link leads: a person, phone, vessel, venue..."""

    kind: IdentifierKind
    value: Annotated[str, BeforeValidator(_normalise), Field(min_length=1)]
    where: Country | None = None
    """For places: the country it is in (lets an analyst tell whose jurisdiction it falls in)."""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


class Window(Model):
    """A time span an indicator points at (``from`` inclusive, ``to`` inclusive)."""

    start: Time = Field(alias="from")
    end: Time = Field(alias="to")


class Indicator(Model):
    """What the lead says about a plot: intent, travel, recon, target, timing..."""

    kind: IndicatorKind
    detail: str = ""
    window: Window | None = None

    @field_validator("window")
    @classmethod
    def _ordered(cls, window: Window | None) -> Window | None:
        if window is not None and window.end < window.start:
            raise ValueError("window 'to' is before 'from'")
        return window


class Marking(Model):
    """Classification on the common ladder, with the originator's national marking kept."""

    level: Level = "SECRET"
    national: str = ""
    """The marking as the originating country writes it, e.g. ``Confidentiel Défense``."""
    compartments: tuple[Compartment, ...] = ()
    """Control systems a reader must be accredited for besides the level (e.g. ``SI`` for signals
    intelligence). A sanitised copy carries none: it no longer shows the source."""

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)

    def readable_by(self, clearance: Level, accreditations: tuple[str, ...]) -> bool:
        """Whether an agency with this clearance and these accreditations may hold it."""
        return self.rank <= LEVELS.index(clearance) and set(self.compartments) <= set(accreditations)


class Caveats(Model):
    """Dissemination controls: originator control, releasability, no foreign nationals."""

    orcon: bool = False
    noforn: bool = False
    rel_to: tuple[Country, ...] | None = None
    """Countries it may be released to (besides the originator's own); ``None`` means unmarked."""


def _grading(value: object) -> object:
    if isinstance(value, str) and len(value) == 2 and value[1].isdigit():
        return {"reliability": value[0], "credibility": int(value[1])}
    return value


class Grading(Model):
    """Admiralty (NATO) grading: source reliability A–F, information credibility 1–6."""

    reliability: Reliability = "F"
    credibility: Annotated[int, Field(ge=1, le=6)] = 6

    @property
    def code(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def weight(self) -> float:
        """How much an analyst trusts it, 0..1 (A1 = 1.0). Scale documented in docs/model.md."""
        return _RELIABILITY_W[self.reliability] * _CREDIBILITY_W[self.credibility]


_RELIABILITY_W = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2, "F": 0.5}
_CREDIBILITY_W = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.4, 5: 0.2, 6: 0.5}

GradingField = Annotated[
    Grading,
    BeforeValidator(_grading),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": "^[A-F][1-6]$", "description": "Admiralty code, e.g. B2"},
                {
                    "type": "object",
                    "properties": {
                        "reliability": {"enum": ["A", "B", "C", "D", "E", "F"]},
                        "credibility": {"type": "integer", "minimum": 1, "maximum": 6},
                    },
                    "additionalProperties": False,
                },
            ]
        },
        mode="validation",
    ),
]


class Source(Model):
    """Where the lead came from. ``method`` is what a tearline copy strips."""

    type: SourceType = "HUMINT"
    sensitivity: Sensitivity = "moderate"
    method: str | None = None
    """How it was collected (e.g. 'satellite-phone intercept'); removed from sanitised copies."""


class Hop(Model):
    """One step of a lead's journey: who passed it to whom, when, and under which rule."""

    sender: AgencyId
    recipient: AgencyId
    at: Time
    rule: str
    sanitised: bool = False


class Contribution(Model):
    """Third-party material inside a lead: whose, from which lead, and whether it was ORCON."""

    agency: AgencyId
    lead: str
    orcon: bool = False


class Lead(Model):
    """What one agency knows and may share."""

    id: Annotated[str, Field(min_length=1, max_length=120)]
    origin: AgencyId
    observed_at: Time
    identifiers: tuple[Identifier, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    marking: Marking = Marking()
    caveats: Caveats = Caveats()
    tlp: TLP = "AMBER"
    grading: GradingField = Grading()
    source: Source = Source()
    summary: str = ""
    """The releasable tearline text: what may be said without source or method."""
    detail: str = ""
    """The full text as held by the originator."""
    named_recipients: tuple[AgencyId, ...] = ()
    """For TLP:RED and similar: the agencies the originator names as recipients."""
    cites: tuple[str, ...] = ()
    """Fact ids in seeds/ this lead traces back to."""
    derived_from: tuple[str, ...] = ()
    """For an assessment built from other leads: their ids."""
    third_party: tuple[Contribution, ...] = ()
    """For an assessment: material from other agencies it contains (the third-party rule reads it)."""
    sanitised_from: str | None = None
    """For a tearline copy: the id of the original it was cut from."""
    provenance: tuple[Hop, ...] = ()
    """Every hop it took to reach its current holder, oldest first."""
