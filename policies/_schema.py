"""Policies as data, the format: the pydantic models a YAML policy file is validated against.

The format is for researchers who do not write Python. ``_compile`` turns a validated document
into a :class:`~tearline.policies.Policy`, ``_lint`` checks it, ``_loader`` reads it from a file.

A policy file is either a **rule set** — ordered rules, each ``match → action`` with optional
delay and transforms — or a **composition** of other policies (built-ins, plugins, inline rule
sets or compositions) under a stated combining algorithm. ``docs/policies.md`` describes every
field; ``policies/examples/`` has worked examples; ``tearline policies lint FILE`` checks one.

Rule set::

    policy: liaison-rules            # name: lower case, digits, hyphens
    summary: One line for tearline policies list.
    groups: {five-eyes: [US, GB, CA, AU, NZ]}
    combine: first-applicable        # how the rules combine (default first-applicable)
    default: withhold                # when no rule matches
    rules:
      - name: NOFORN stays home
        match: {caveats: {noforn: true}, domestic: false}
        action: withhold
      - name: allies get a tearline
        match: {recipient_in: five-eyes, classification: {at_least: SECRET}}
        action: release
        delay: 1d
        transforms: [{tearline: {downgrade_to: CONFIDENTIAL, drop: [phone]}}]

Composition::

    policy: caveats-first
    combine: deny-overrides          # deny-overrides | permit-overrides | first-applicable
    delays: max                      # max | sum | min, for combined releases
    members:
      - bilateral                    # a policy spec, as on the command line
      - {use: tlp, options: {community: [IN, US]}}
      - {use: bilateral, only: release}   # counts only where it releases
      - {rules: [...]}               # an inline rule set (or an inline composition)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from tearline.model import (
    TLP,
    AgencyId,
    AgencyKind,
    Country,
    Duration,
    IdentifierKind,
    IndicatorKind,
    Level,
    Model,
    PolicyError,
    Sensitivity,
    SourceType,
)

from . import _options as opt
from ._compose import ALGORITHMS, Algorithm, Delays

T = TypeVar("T")

Loc = tuple[int | str, ...]
"""A field path in a policy document: ``("members", 2, "rules", 0)``."""


def _listify(value: object) -> object:
    """Validators before a strict field get Python values: a tuple, so strict validation accepts it."""
    if isinstance(value, list):
        return tuple(value)
    return (value,) if isinstance(value, str | bool) else value


if TYPE_CHECKING:
    Many = Annotated[tuple[T, ...], BeforeValidator(_listify)]
else:

    class Many:
        """``Many[X]``: a list of X in YAML; a single X is read as a list of one (the JSON Schema says both)."""

        def __class_getitem__(cls, item: object) -> object:
            return Annotated[
                tuple[item, ...], BeforeValidator(_listify, json_schema_input_type=item | list[item])
            ]


Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]


class LevelRange(Model):
    """``{at_least: CONFIDENTIAL, at_most: SECRET}`` (both ends inclusive)."""

    at_least: Level | None = None
    at_most: Level | None = None


def _check_time(value: str | None) -> str | None:
    if value is not None:
        try:
            opt.timepoint("time", "time", value)
        except PolicyError:
            raise ValueError(
                f"{value!r} is not a time; write 2008-11-26T20:30+05:30, start, or start+2d"
            ) from None
    return value


TimeText = Annotated[str | None, BeforeValidator(_check_time)]


class Window(Model):
    """``{after: start+2d, before: 2030-03-14T00:00+00:00}``: after inclusive, before exclusive."""

    after: TimeText = None
    before: TimeText = None


class CaveatMatch(Model):
    orcon: bool | None = None
    noforn: bool | None = None
    rel_to: Literal["marked", "unmarked", "includes-recipient", "excludes-recipient"] | None = None


class Match(Model):
    """Every condition given must hold (AND); a list means any of its values (OR)."""

    sender: Many[AgencyId] | None = None
    recipient: Many[AgencyId] | None = None
    sender_country: Many[Country] | None = None
    recipient_country: Many[Country] | None = None
    sender_kind: Many[AgencyKind] | None = None
    recipient_kind: Many[AgencyKind] | None = None
    sender_in: Many[str] | None = None
    """Membership: group names from the file's ``groups``."""
    recipient_in: Many[str] | None = None
    domestic: bool | None = None
    classification: Many[Level] | LevelRange | None = None
    caveats: CaveatMatch | None = None
    tlp: Many[TLP] | None = None
    indicator: Many[IndicatorKind] | None = None
    """Any of these indicator kinds is in the lead."""
    identifier: Many[IdentifierKind] | None = None
    """Any of these identifier kinds is in the lead."""
    source: Many[SourceType] | None = None
    sensitivity: Many[Sensitivity] | None = None
    third_party: bool | None = None
    """The lead carries other agencies' material."""
    assessment: bool | None = None
    """The lead is an assessment built from other leads."""
    named: bool | None = None
    """The recipient is among the lead's named recipients."""
    need_to_know: bool | None = None
    """The recipient has jurisdiction where the lead places something."""
    time: Window | None = None
    """When the decision is taken."""
    observed: Window | None = None
    """When the lead was observed."""


class TearlineSpec(Model):
    downgrade_to: Level | None = None
    keep: Many[IdentifierKind] | None = None
    drop: Many[IdentifierKind] = ()


class SisSpec(Model):
    category: Literal["discreet-check", "specific-check", "terrorism-marker"] = "discreet-check"


def _transform_shorthand(value: object) -> object:
    return {value: {}} if isinstance(value, str) else value


class TransformSpec(Model):
    """``{tearline: {...}}`` or ``{sis-alert: {category: ...}}``; ``tearline`` alone takes defaults."""

    model_config = ConfigDict(populate_by_name=True)

    tearline: TearlineSpec | None = None
    sis_alert: SisSpec | None = Field(default=None, alias="sis-alert")

    @model_validator(mode="after")
    def _one(self) -> TransformSpec:
        if (self.tearline is None) == (self.sis_alert is None):
            raise ValueError("give exactly one transform: tearline or sis-alert")
        return self


class Rule(Model):
    name: Annotated[str, Field(min_length=1)]
    match: Match = Match()
    action: Literal["release", "withhold", "consult"]
    reason: str | None = None
    delay: Duration = 0
    transforms: tuple[
        Annotated[
            TransformSpec,
            BeforeValidator(
                _transform_shorthand, json_schema_input_type=Literal["tearline", "sis-alert"] | TransformSpec
            ),
        ],
        ...,
    ] = ()

    @model_validator(mode="after")
    def _withhold_plain(self) -> Rule:
        if self.action == "withhold" and (self.delay or self.transforms):
            raise ValueError("a withhold rule takes no delay or transforms")
        return self


class UseRef(Model):
    """A registered policy (built-in or plugin) with options given as YAML values."""

    use: str
    options: dict[str, Any] = Field(default_factory=dict)
    only: opt.Default | None = None
    """Count only this member's releases (or withholds); its other verdicts are not applicable."""


def _member_kind(value: object) -> str:
    if isinstance(value, str):
        return "spec"
    if isinstance(value, Mapping) and "use" in value:
        return "use"
    if isinstance(value, UseRef):
        return "use"
    return "doc"


Member = Annotated[
    Annotated[str, Tag("spec")] | Annotated[UseRef, Tag("use")] | Annotated["PolicyDoc", Tag("doc")],
    Discriminator(_member_kind),
]


class PolicyDoc(Model):
    """A policy file (or an inline member): a rule set, or a composition."""

    policy: Name | None = None
    summary: str = ""
    description: str = ""
    groups: dict[str, Many[str]] = Field(default_factory=dict)
    """Named sets of agency ids and country codes, for ``sender_in``/``recipient_in``."""
    combine: Algorithm | None = None
    default: opt.Default = "withhold"
    delays: Delays = "max"
    rules: tuple[Rule, ...] | None = None
    members: tuple[Member, ...] | None = None

    @model_validator(mode="after")
    def _shape(self) -> PolicyDoc:
        if (self.rules is None) == (self.members is None):
            raise ValueError("give either rules (a rule set) or members (a composition), not both or neither")
        if self.rules is not None and not self.rules:
            raise ValueError("rules is empty")
        if self.members is not None:
            if not self.members:
                raise ValueError("members is empty")
            if self.combine is None:
                raise ValueError(f"a composition must say how to combine: combine: {' | '.join(ALGORITHMS)}")
        return self


PolicyDoc.model_rebuild()
