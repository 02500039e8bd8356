"""Intervals against reference implementations (statsmodels, scipy) on known inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from tearline.research import bootstrap_difference, bootstrap_mean, rate_difference, wilson


class TestWilson:
    @pytest.mark.parametrize(
        ("k", "n"), [(0, 3), (3, 3), (1, 3), (7, 20), (20, 20), (0, 1), (50, 100), (1, 1000)]
    )
    def test_matches_statsmodels(self, k: int, n: int) -> None:
        """Wilson's interval equals statsmodels' proportion_confint(method="wilson")."""
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        iv = wilson(k, n)
        assert iv.estimate == pytest.approx(k / n)
        assert (iv.low, iv.high) == pytest.approx((low, high), abs=1e-12)

    def test_three_runs_all_disrupted_is_not_certain(self) -> None:
        """3 of 3 is 100 % with a lower bound near 44 %, not a bare 100 %."""
        assert wilson(3, 3).low == pytest.approx(0.4385, abs=1e-4)

    @given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
    def test_interval_holds_the_estimate(self, kn: tuple[int, int]) -> None:
        """0 ≤ low ≤ k/n ≤ high ≤ 1 for every k ≤ n."""
        iv = wilson(*kn)
        assert 0.0 <= iv.low <= iv.estimate + 1e-12 <= iv.high + 2e-12 <= 1.0 + 3e-12

    def test_no_trials_is_an_error(self) -> None:
        """A rate over no runs is refused, not reported as 0 %."""
        with pytest.raises(ValueError, match="at least one trial"):
            wilson(0, 0)


class TestRateDifference:
    @pytest.mark.parametrize(
        ("k1", "n1", "k2", "n2"), [(20, 20, 0, 20), (7, 20, 3, 20), (1, 3, 2, 3), (15, 50, 15, 50)]
    )
    def test_matches_statsmodels_newcombe(self, k1: int, n1: int, k2: int, n2: int) -> None:
        """Newcombe's hybrid score interval equals statsmodels' confint_proportions_2indep(method="newcomb")."""
        low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        iv = rate_difference(k1, n1, k2, n2)
        assert iv.estimate == pytest.approx(k1 / n1 - k2 / n2)
        assert (iv.low, iv.high) == pytest.approx((low, high), abs=1e-9)


WARNINGS = [138.3, 137.5, 138.0, 12.0, 53.0, 90.5, 42.0, 18.0, 137.9, 138.1, 0.5, 306.0]


class TestBootstrap:
    def test_mean_matches_scipy_percentile(self) -> None:
        """The seeded percentile bootstrap agrees with scipy.stats.bootstrap to within resampling noise."""
        ref = stats.bootstrap(
            (WARNINGS,),
            np.mean,
            method="percentile",
            n_resamples=20000,
            random_state=np.random.default_rng(1),
        ).confidence_interval
        iv = bootstrap_mean(WARNINGS, seed=7, resamples=20000)
        assert iv is not None
        spread = max(WARNINGS) - min(WARNINGS)
        assert iv.estimate == pytest.approx(np.mean(WARNINGS))
        assert iv.low == pytest.approx(ref.low, abs=0.02 * spread)
        assert iv.high == pytest.approx(ref.high, abs=0.02 * spread)

    def test_difference_matches_scipy_percentile(self) -> None:
        """mean(a) − mean(b) agrees with scipy's two-sample percentile bootstrap."""
        a, b = WARNINGS, [w * 0.5 + 3 for w in WARNINGS[:9]]
        ref = stats.bootstrap(
            (a, b),
            lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            method="percentile",
            n_resamples=20000,
            random_state=np.random.default_rng(2),
        ).confidence_interval
        iv = bootstrap_difference(a, b, seed=3, resamples=20000)
        assert iv is not None
        assert iv.low == pytest.approx(ref.low, abs=6.0)
        assert iv.high == pytest.approx(ref.high, abs=6.0)

    def test_same_seed_same_interval(self) -> None:
        """The bootstrap is deterministic: same values and seed, same interval."""
        assert bootstrap_mean(WARNINGS, seed=5) == bootstrap_mean(WARNINGS, seed=5)

    def test_no_values_no_interval(self) -> None:
        """Nothing to average gives no interval rather than a made-up one."""
        assert bootstrap_mean([]) is None
        assert bootstrap_difference([], [1.0]) is None

    def test_one_value_is_a_point(self) -> None:
        """A single run's value has a zero-width interval."""
        iv = bootstrap_mean([4.0])
        assert iv is not None and (iv.low, iv.estimate, iv.high) == (4.0, 4.0, 4.0)
