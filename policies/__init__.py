"""Sharing policies: who gets which lead, when, in what form — and why.

Every policy implements :class:`Policy`; :func:`load_policy` builds one from a name such as
``bilateral`` or ``fusion-centre:centre=joint-ct``.
"""

from ._base import BasePolicy, Ledger, Policy, PolicyContext, Route
from ._registry import ENTRY_POINT_GROUP, PolicyInfo, available, load_policy, parse_spec

__all__ = [
    "ENTRY_POINT_GROUP",
    "BasePolicy",
    "Ledger",
    "Policy",
    "PolicyContext",
    "PolicyInfo",
    "Route",
    "available",
    "load_policy",
    "parse_spec",
]
