"""Sharing policies: who gets which lead, when, in what form — and why.

Every policy implements :class:`Policy`; :func:`load_policy` builds one from a name such as
``bilateral`` or ``fusion-centre:centre=joint-ct``, or from a YAML policy file. Policies combine
by XACML's algorithms (:class:`Composite`, built from :class:`Policy` objects; the registry builds
the members a spec names); ``docs/policies.md`` states every rule's semantics.
"""

from ._base import BasePolicy, Ledger, Policy, PolicyContext, Route
from ._cache import CachedPolicy
from ._compose import ALGORITHMS, Composite, combine
from ._lint import LintReport
from ._override import Overridden, with_overrides
from ._registry import (
    BUILTIN,
    COMBINATORS,
    ENTRY_POINT_GROUP,
    PolicyInfo,
    available,
    build_policy,
    lint,
    load_policy,
    parse_spec,
    policy_from_data,
    policy_options,
    read_policy,
)
from ._ruleset import RuleSet
from ._schema import PolicyDoc
from .misp import MispDistribution

__all__ = [
    "ALGORITHMS",
    "BUILTIN",
    "COMBINATORS",
    "ENTRY_POINT_GROUP",
    "BasePolicy",
    "CachedPolicy",
    "Composite",
    "Ledger",
    "LintReport",
    "MispDistribution",
    "Overridden",
    "Policy",
    "PolicyContext",
    "PolicyDoc",
    "PolicyInfo",
    "Route",
    "RuleSet",
    "available",
    "build_policy",
    "combine",
    "lint",
    "load_policy",
    "parse_spec",
    "policy_from_data",
    "policy_options",
    "read_policy",
    "with_overrides",
]
