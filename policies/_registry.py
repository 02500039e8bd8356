"""Finding and building policies: the built-ins, plugins registered under the ``tearline.policies``
entry point, and policy files.

This is the one place that reads policy specs (``deny-overrides:of=bilateral+tlp``,
``tearline:then=bilateral``): options that take policies are built here, members first, and
handed to the factory as :class:`Policy` objects. Policy files are compiled with this module's
resolver, so their members are found the same way.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import warnings
from collections import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from tearline.model import PolicyError, Scenario

from . import _options as opt
from ._base import Policy
from ._compose import DenyOverrides, FirstApplicable, PermitOverrides
from ._lint import LintReport
from ._loader import from_data, lint_file, read_file
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
    if data is not None:
        return policy_from_data(data, source=spec)
    if spec.endswith((".yaml", ".yml")):
        return read_policy(Path(spec))[1]
    name, options = parse_spec(spec)
    return build_policy(name, options)


def build_policy(name: str, options: Mapping[str, object]) -> Policy:
    """The policy ``name`` with ``options`` (strings from a spec, YAML values from a file, or built policies).

    Options that take policies (see :func:`policy_options`) are built here first, from specs
    (``of=bilateral+tlp``, ``then=bilateral``), so every factory receives :class:`Policy` objects.
    """
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
            raise opt.OptionError(f"policy {name!r} has no option {key!r} (options: {allowed})", key)
    takes = policy_options(factory)
    for key, arity in takes.items():
        if arity == "many" and key not in options and params[key].default is inspect.Parameter.empty:
            raise _say_which(name, key)
    built = {k: _policies(name, k, v, takes[k]) if k in takes else v for k, v in options.items()}
    try:
        policy = factory(**built)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"policy {name!r}: {exc}") from None
    if not isinstance(policy, Policy):
        raise PolicyError(f"policy {name!r} does not implement the Policy protocol (decide, enables)")
    return policy


PolicyArity = Literal["one", "many"]


@cache
def policy_options(factory: Factory) -> dict[str, PolicyArity]:
    """The options of ``factory`` that take policies: annotated ``Policy`` (one, or ``None``) or
    ``Sequence[Policy]`` (many). A plugin composes other policies the same way."""
    try:
        params = inspect.signature(factory, eval_str=True).parameters
    except Exception:  # annotations a plugin cannot resolve at run time: it takes no policies
        return {}
    out: dict[str, PolicyArity] = {}
    for key, p in params.items():
        arity = _arity(p.annotation)
        if arity is not None:
            out[key] = arity
    return out


def _arity(hint: object) -> PolicyArity | None:
    alternatives = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for h in alternatives:
        if h is Policy:
            return "one"
        if get_origin(h) in (abc.Sequence, list, tuple) and get_args(h)[:1] == (Policy,):
            return "many"
    return None


def _say_which(name: str, key: str) -> PolicyError:
    return PolicyError(
        f"{name}: say which policies to combine, e.g. --policy '{name}:{key}=bilateral+tlp+releasability' "
        "(members with several options: write a policy file, see docs/policies.md)"
    )


def _policies(name: str, key: str, value: object, arity: PolicyArity) -> Policy | tuple[Policy, ...] | None:
    """An option that takes policies, built: specs (``A+B`` or a list of them) or policies as they are."""

    def one(v: object) -> Policy:
        if isinstance(v, Policy):
            return v
        if not (isinstance(v, str) and v.strip()):
            raise opt.OptionError(f"{name}: option {key}={v!r} is not a policy name", key)
        try:
            return load_policy(v.strip())
        except PolicyError as exc:
            raise opt.OptionError(f"{name}: option {key}: {exc}", key) from None

    if arity == "one":
        return None if value is None else one(value)
    if isinstance(value, str):
        members = tuple(one(s) for s in opt.items(name, key, value))
    elif isinstance(value, Sequence):
        members = tuple(one(v) for v in value)
    else:
        members = (one(value),)
    if not members:
        raise opt.OptionError(str(_say_which(name, key)), key)
    return members


def _resolve(spec: str, options: Mapping[str, object] | None) -> Policy:
    """How a policy file's members are built: a spec, or a name with options (YAML values)."""
    return load_policy(spec) if options is None else build_policy(spec, options)


def lint(path: Path, scenario: Scenario | None = None) -> LintReport:
    """Check a policy file: YAML, fields, policy names, groups; with a scenario, its agencies too."""
    return lint_file(Path(path), _resolve, scenario)


def read_policy(path: Path) -> tuple[dict[str, Any], Policy]:
    """A policy file's data (as read, for a :class:`~tearline.model.RunConfig`) and its policy.

    Raises :class:`PolicyError` listing every problem as ``file:line: field: problem``."""
    return read_file(Path(path), _resolve)


def policy_from_data(data: object, source: str = "(policy data)") -> Policy:
    """The policy parsed policy data describes; a :class:`PolicyError` listing every problem if not."""
    return from_data(data, source, _resolve)
