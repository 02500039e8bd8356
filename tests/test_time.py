"""Sim time is written by one formatter, whose kept renderings never differ from fresh ones."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tearline.model import iso


class TestIso:
    @given(st.integers(min_value=-2_208_988_800, max_value=4_102_444_799))
    def test_a_kept_rendering_equals_a_fresh_one(self, t: int) -> None:
        """Sim time renders as canonical UTC the first time and every time after."""
        fresh = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert iso(t) == fresh
        assert iso(t) == fresh
