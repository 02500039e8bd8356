"""Decisions: what a policy says about one lead for one recipient, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal, get_args, overload

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from ._base import Model
from ._lead import LEVELS, SELECTOR_KINDS, AgencyId, Hop, IdentifierKind, Lead, Level, Marking, Source
from ._time import human_duration

Action = Literal["release", "withhold", "consult"]
_PERSON_KINDS = frozenset({"person", "alias", "passport"})


class Tearline(Model):
    """Release a sanitised copy: source method removed, optionally downgraded, identifiers filtered."""

    kind: Literal["tearline"] = "tearline"
    downgrade_to: Level | None = None
    keep: tuple[IdentifierKind, ...] | None = None
    """Identifier kinds kept; ``None`` keeps all."""
    drop: tuple[IdentifierKind, ...] = ()
    """Identifier kinds dropped (applied after ``keep``)."""


class SisAlert(Model):
    """Schengen-style alert: only person identifiers and an alert category cross."""

    kind: Literal["sis-alert"] = "sis-alert"
    category: Literal["discreet-check", "specific-check", "terrorism-marker"] = "discreet-check"


Transform = Annotated[Tearline | SisAlert, Field(discriminator="kind")]

SIS_CATEGORIES: tuple[str, ...] = ("discreet-check", "specific-check", "terrorism-marker")
"""SIS alert categories, most restrictive (reveals least) first."""


class Trail(Sequence[str]):
    """A composed decision's member verdicts, one line each, written out when first read.

    A composite decides for every question, but its trail is read only where a decision is
    recorded or explained; the lines are written then (once) by ``write(first, second)``, e.g. the
    members' labels and their decisions. A trail compares, hashes and serialises as the tuple of
    its lines, and a plain tuple of lines is accepted wherever a trail is expected.
    """

    __slots__ = ("_first", "_lines", "_second", "_write")

    def __init__(
        self,
        write: Callable[[Any, Any], tuple[str, ...]] | None = None,
        first: Any = None,
        second: Any = None,
    ) -> None:
        self._lines: tuple[str, ...] | None = None if write is not None else ()
        self._write = write
        self._first = first
        self._second = second

    @classmethod
    def of(cls, lines: Iterable[str]) -> Trail:
        """A trail of lines already written."""
        trail = cls()
        trail._lines = tuple(lines)
        return trail

    @property
    def lines(self) -> tuple[str, ...]:
        if self._lines is None:
            assert self._write is not None
            self._lines = self._write(self._first, self._second)
            self._write = self._first = self._second = None
        return self._lines

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self.lines[index]

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trail):
            return self.lines == other.lines
        if isinstance(other, tuple):
            return self.lines == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.lines)

    def __repr__(self) -> str:
        return repr(self.lines)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_lines = core_schema.no_info_after_validator_function(
            cls.of, handler.generate_schema(tuple[str, ...])
        )
        return core_schema.json_or_python_schema(
            json_schema=from_lines,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_lines]),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda t: t.lines),
        )


NO_TRAIL = Trail()


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
    trail: Trail = NO_TRAIL
    """For composed policies: each member's verdict, in evaluation order (written when read)."""
    applicable: bool = True
    """False when the policy has nothing to say about this lead and route (XACML's NotApplicable):
    ``action`` is then only its default. Combining algorithms skip such members; the gateway
    still acts on ``action``."""

    @classmethod
    def release(
        cls,
        rule: str,
        reason: str,
        *,
        delay: int = 0,
        transforms: tuple[Transform, ...] = (),
        applicable: bool = True,
        trail: Trail = NO_TRAIL,
    ) -> Decision:
        return cls(
            action="release",
            rule=rule,
            reason=reason,
            delay=delay,
            transforms=transforms,
            applicable=applicable,
            trail=trail,
        )

    @classmethod
    def withhold(
        cls, rule: str, reason: str, *, applicable: bool = True, trail: Trail = NO_TRAIL
    ) -> Decision:
        return cls(action="withhold", rule=rule, reason=reason, applicable=applicable, trail=trail)

    @classmethod
    def ask(cls, rule: str, reason: str, originator: AgencyId, *, trail: Trail = NO_TRAIL) -> Decision:
        """Consult ``originator``: the gateway sends a consent request and decides again on the answer."""
        return cls(action="consult", rule=rule, reason=reason, consult=originator, trail=trail)

    @classmethod
    def not_applicable(
        cls,
        rule: str,
        reason: str,
        *,
        default: Literal["release", "withhold"] = "release",
        trail: Trail = NO_TRAIL,
    ) -> Decision:
        """Nothing in this policy applies; standing alone it falls back to ``default``."""
        return cls(action=default, rule=rule, reason=reason, applicable=False, trail=trail)

    def verdict(self) -> str:
        """One line: action, rule, reason, delay and transforms (used in composition trails)."""
        action = self.action if self.applicable else f"not applicable (default {self.action})"
        extra = ""
        if self.action == "release" and self.delay:
            extra += f"; delay {human_duration(self.delay)}"
        if self.action == "release" and self.transforms:
            extra += f"; {', '.join(describe_transform(t) for t in self.transforms)}"
        if self.action == "consult" and self.consult:
            extra += f"; ask {self.consult}"
        return f"{action} [{self.rule}] {self.reason}{extra}"


SelectorRule = Literal["keep", "drop", "drop-sigint"]


def tearline_for(
    lead: Lead,
    *,
    downgrade_to: Level | None,
    keep: tuple[IdentifierKind, ...] | None = None,
    drop: tuple[IdentifierKind, ...] = (),
    selectors: SelectorRule = "drop-sigint",
) -> Tearline:
    """The tearline for this lead: ``drop`` plus, under ``drop-sigint``, a SIGINT lead's
    communications selectors (passing them would reveal what was tasked), or always under ``drop``."""
    dropped: set[str] = set(drop)
    if selectors == "drop" or (selectors == "drop-sigint" and lead.source.type == "SIGINT"):
        dropped |= SELECTOR_KINDS
    return Tearline(
        downgrade_to=downgrade_to, keep=keep, drop=tuple(k for k in _IDENTIFIER_ORDER if k in dropped)
    )


def describe_transform(t: Transform) -> str:
    """``tearline (to RESTRICTED, drops phone)``, ``sis-alert (discreet-check)``."""
    if isinstance(t, SisAlert):
        return f"sis-alert ({t.category})"
    parts = []
    if t.downgrade_to is not None:
        parts.append(f"to {t.downgrade_to}")
    if t.keep is not None:
        parts.append(f"keeps {'+'.join(t.keep) or 'no identifiers'}")
    if t.drop:
        parts.append(f"drops {'+'.join(t.drop)}")
    return "tearline" + (f" ({', '.join(parts)})" if parts else "")


def combine_transforms(groups: Iterable[tuple[Transform, ...]]) -> tuple[Transform, ...]:
    """Most restrictive transform wins: one tearline and one SIS alert at most, each as strict as
    any asked for.

    Tearlines merge to the lowest ``downgrade_to`` asked for (the copy written for the lowest
    clearance reveals least), the intersection of ``keep`` lists and the union of ``drop`` lists.
    SIS alerts merge to the category that reveals least (discreet check < specific check <
    terrorism marker). The tearline is applied before the alert.
    """
    tearlines: list[Tearline] = []
    alerts: list[SisAlert] = []
    for group in groups:
        for t in group:
            (tearlines if isinstance(t, Tearline) else alerts).append(t)  # type: ignore[arg-type]
    out: list[Transform] = []
    if tearlines:
        levels = [t.downgrade_to for t in tearlines if t.downgrade_to is not None]
        keeps = [set(t.keep) for t in tearlines if t.keep is not None]
        kept: tuple[IdentifierKind, ...] | None = None
        if keeps:
            common = set.intersection(*keeps)
            kept = tuple(k for k in _IDENTIFIER_ORDER if k in common)
        dropped = {k for t in tearlines for k in t.drop}
        out.append(
            Tearline(
                downgrade_to=min(levels, key=LEVELS.index) if levels else None,
                keep=kept,
                drop=tuple(k for k in _IDENTIFIER_ORDER if k in dropped),
            )
        )
    if alerts:
        out.append(min(alerts, key=lambda a: SIS_CATEGORIES.index(a.category)))
    return tuple(out)


_IDENTIFIER_ORDER: tuple[IdentifierKind, ...] = get_args(IdentifierKind)


def apply_transforms(lead: Lead, transforms: tuple[Transform, ...]) -> Lead:
    """The copy a recipient receives. A sanitised copy links back to its original."""
    out = lead
    for t in transforms:
        if isinstance(t, Tearline):
            marking = out.marking.model_copy(update={"compartments": ()})
            if t.downgrade_to is not None and LEVELS.index(t.downgrade_to) < marking.rank:
                marking = Marking(level=t.downgrade_to, national=f"{marking.national} (tearline)".strip())
            ids = out.identifiers if t.keep is None else tuple(i for i in out.identifiers if i.kind in t.keep)
            ids = tuple(i for i in ids if i.kind not in t.drop)
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
                    "marking": out.marking.model_copy(update={"compartments": ()}),
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
    hop = Hop(
        sender=sender, recipient=recipient, at=at, rule=decision.rule, sanitised=bool(decision.transforms)
    )
    return copy.model_copy(update={"provenance": (*lead.provenance, hop)})
