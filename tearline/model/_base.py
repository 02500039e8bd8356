"""The shared base for every Tearline model: strict, closed and immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Strict (no silent coercion), closed (unknown fields are errors) and frozen."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
