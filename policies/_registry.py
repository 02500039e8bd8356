"""Finding policies: the built-ins, and plugins registered under the ``tearline.policies`` entry point."""

from __future__ import annotations

import importlib.metadata
import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tearline.model import PolicyError

from ._base import Policy
from ._compose import DenyOverrides, FirstApplicable, PermitOverrides
from .approval_delay import ApprovalDelay
from .as_happened import AsHappened
from .bilateral import Bilateral
from .embargo import Embargo
from .eu_sis import EuSis
from .fusion_centre import FusionCentre
from .misp import MispDistribution
from .need_to_know import NeedToKnow
from .reciprocity import Reciprocity
from .releasability import Releasability
from .siloed import Siloed
from .tearline_copy import TearlineCopy
from .third_party import ThirdPartyRule
from .tlp import Tlp

ENTRY_POINT_GROUP = "tearline.policies"

Factory = Callable[..., Policy]

BUILTIN: dict[str, Factory] = {
    "siloed": Siloed,
    "as-happened": AsHappened,
    "bilateral": Bilateral,
    "fusion-centre": FusionCentre,
    "need-to-know": NeedToKnow,
    "tlp": Tlp,
    "releasability": Releasability,
    "third-party-rule": ThirdPartyRule,
    "tearline": TearlineCopy,
    "eu-sis": EuSis,
    "reciprocity": Reciprocity,
    "approval-delay": ApprovalDelay,
    "embargo": Embargo,
    "misp-distribution": MispDistribution,
}
"""The sharing policies that ship with Tearline (each runs with no options)."""

COMBINATORS: dict[str, Factory] = {
    "deny-overrides": DenyOverrides,
    "permit-overrides": PermitOverrides,
    "first-applicable": FirstApplicable,
}
"""Composition by XACML's combining algorithms; each needs ``of=A+B+...`` (or a policy file)."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    summary: str
    origin: str
    """``built-in`` or the distribution that registered it."""
    options: tuple[str, ...]
    doc: str


def _plugins() -> dict[str, tuple[Factory, str]]:
    found: dict[str, tuple[Factory, str]] = {}
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in BUILTIN or ep.name in COMBINATORS or ep.name in found:
            warnings.warn(
                f"policy plugin {ep.name!r} ({ep.value}) duplicates a known policy; skipped", stacklevel=2
            )
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # a broken plugin must not take the tool down
            warnings.warn(f"policy plugin {ep.name!r} failed to load: {exc}", stacklevel=2)
            continue
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        found[ep.name] = (factory, dist)
    return found


def _all() -> dict[str, tuple[Factory, str]]:
    return {
        **{n: (f, "built-in") for n, f in BUILTIN.items()},
        **{n: (f, "built-in") for n, f in COMBINATORS.items()},
        **_plugins(),
    }


def available() -> list[PolicyInfo]:
    """Every policy this installation knows, built-ins first."""
    out = []
    for name, (factory, origin) in _all().items():
        params = inspect.signature(factory).parameters
        options = tuple(p for p in params if p != "self")
        summary = getattr(factory, "summary", "") or (inspect.getdoc(factory) or "").split("\n")[0]
        doc = inspect.getdoc(inspect.getmodule(factory)) or ""
        out.append(PolicyInfo(name, summary, origin, options, doc))
    return out


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``fusion-centre:centre=joint,delay=2h`` → ``("fusion-centre", {"centre": "joint", ...})``."""
    name, _, rest = spec.partition(":")
    options: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        key, eq, value = part.partition("=")
        if not eq:
            raise PolicyError(f"policy option {part!r} in {spec!r} is not key=value")
        options[key.strip().replace("-", "_")] = value.strip()
    return name.strip(), options


def load_policy(spec: str, data: Mapping[str, Any] | None = None) -> Policy:
    """Build the policy a spec names, or the one a policy file holds.

    ``spec`` is a name with options (``tlp:community=IN+US``) or the path of a YAML policy file;
    ``data`` is that file's parsed content when the caller already read it. Unknown names and
    options get an error that lists the valid ones.
    """
    if data is not None or spec.endswith((".yaml", ".yml")):
        from ._data import load_file, policy_from_data

        return policy_from_data(data, source=spec) if data is not None else load_file(Path(spec))
    name, options = parse_spec(spec)
    return build_policy(name, options)


def build_policy(name: str, options: Mapping[str, object]) -> Policy:
    """The policy ``name`` with ``options`` (strings from a spec, or YAML values from a file)."""
    known = _all()
    if name not in known:
        raise PolicyError(
            f"unknown policy {name!r}; known: {', '.join(sorted(known))} (see: tearline policies list)"
        )
    factory, _ = known[name]
    params = inspect.signature(factory).parameters
    for key in options:
        if key not in params:
            allowed = ", ".join(p for p in params) or "none"
            raise PolicyError(f"policy {name!r} has no option {key!r} (options: {allowed})")
    try:
        policy = factory(**options)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"policy {name!r}: {exc}") from None
    if not isinstance(policy, Policy):
        raise PolicyError(f"policy {name!r} does not implement the Policy protocol (decide, enables)")
    return policy
