"""From a validated policy document to a :class:`Policy`: rule sets, compositions and their members.

Members named by a spec (``bilateral``, ``tlp:clients=none``) or by ``use:`` with options are
policies this module does not know: a :data:`Resolve` function passed in builds them (the
registry's, which parses specs and finds built-ins and plugins). A member that cannot be built is
an error at that member's place in the file; compiling goes on, so every such error is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tearline.model import PolicyError

from ._base import Policy
from ._compose import Composite, Only
from ._options import OptionError
from ._ruleset import RuleSet
from ._schema import Loc, PolicyDoc, UseRef

Resolve = Callable[[str, Mapping[str, object] | None], Policy]
"""Builds a member: ``(spec, None)`` for a spec string such as ``tlp:community=IN``, ``(name, options)``
for a registered policy with options given as YAML values. Raises :class:`PolicyError`."""


@dataclass
class Compiler:
    """Compiles a document, collecting the members it could not build (with their field paths)."""

    resolve: Resolve
    errors: list[tuple[Loc, str]] = field(default_factory=list)

    def policy(
        self, doc: PolicyDoc, loc: Loc, name: str, groups: Mapping[str, tuple[str, ...]]
    ) -> Policy | None:
        """The policy ``doc`` describes, named ``name``; ``None`` if a member could not be built."""
        groups = {**groups, **doc.groups}
        if doc.rules is not None:
            return RuleSet(
                name,
                doc.rules,
                groups=groups,
                summary=doc.summary,
                combine=doc.combine or "first-applicable",
                default=doc.default,
                delays=doc.delays,
            )
        members = [
            self.member(m, (*loc, "members", i), f"{name}-{i + 1}", groups)
            for i, m in enumerate(doc.members or ())
        ]
        built = [m for m in members if m is not None]
        if len(built) != len(members):
            return None
        assert doc.combine is not None  # the schema ensures it
        return Composite(
            doc.combine, built, name=name, summary=doc.summary or None, default=doc.default, delays=doc.delays
        )

    def member(
        self, m: str | UseRef | PolicyDoc, loc: Loc, name: str, groups: Mapping[str, tuple[str, ...]]
    ) -> Policy | None:
        if isinstance(m, PolicyDoc):
            return self.policy(m, loc, m.policy or name, groups)
        if isinstance(m, str):
            if m.endswith((".yaml", ".yml")):
                return self._error(
                    loc, f"{m!r}: include other policy files' content inline (members: [{{rules: ...}}])"
                )
            try:
                return self.resolve(m, None)
            except PolicyError as exc:
                return self._error(loc, str(exc))
        written = {k.replace("-", "_"): k for k in m.options}  # as the factory names it → as the file has it
        try:
            built = self.resolve(m.use, {k: m.options[w] for k, w in written.items()})
        except OptionError as exc:  # point at the option's own line
            return self._error((*loc, "options", written.get(exc.option, exc.option)), str(exc))
        except PolicyError as exc:
            return self._error(loc, str(exc))
        return Only(built, m.only) if m.only is not None else built

    def _error(self, loc: Loc, reason: str) -> Policy | None:
        """Note a member that could not be built; compiling goes on (``None``: no policy)."""
        self.errors.append((loc, reason))
        return None


def compile_doc(doc: PolicyDoc, resolve: Resolve) -> tuple[Policy | None, list[tuple[Loc, str]]]:
    """The policy a named document describes, and the members that could not be built."""
    assert doc.policy is not None  # the loader checks the top-level name first
    compiler = Compiler(resolve)
    policy = compiler.policy(doc, (), doc.policy, {})
    return policy, compiler.errors
