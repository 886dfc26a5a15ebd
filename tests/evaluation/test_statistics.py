"""Each statistic against an independent computation or a published worked example."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from evaluation.statistics import agreement, detection, mixed, power, ranking, ratings
from evaluation.statistics.proportions import (
    binomial_test,
    clustered_rate,
    holm,
    tost_proportion,
    wilson_interval,
)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (52, 240), (240, 240), (17, 31)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    assert wilson_interval(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"))


def test_wilson_textbook_value() -> None:
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662 (method 3, score interval).
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)


@pytest.mark.parametrize(("k", "n"), [(7, 20), (10, 20), (113, 240), (2, 9)])
def test_binomial_test_by_summing_the_distribution(k: int, n: int) -> None:
    pmf = stats.binom.pmf(np.arange(n + 1), n, 0.5)
    expected = min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum())
    assert binomial_test(k, n) == pytest.approx(expected)


def test_tost_is_two_exact_one_sided_tests() -> None:
    k, n, margin = 113, 240, 0.1
    result = tost_proportion(k, n, margin=margin)
    assert result.p_lower == pytest.approx(stats.binom.sf(k - 1, n, 0.4))
    assert result.p_upper == pytest.approx(stats.binom.cdf(k, n, 0.6))
    assert result.equivalent() and not tost_proportion(52, 240, margin=margin).equivalent()
    assert not tost_proportion(5, 10, margin=margin).equivalent()  # too few trials to claim anything
    with pytest.raises(ValueError, match="margin"):
        tost_proportion(5, 10, margin=0.7)


def test_holm_matches_statsmodels() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert np.isnan(holm([0.1, np.nan])[1])


def test_d_prime_textbook_values() -> None:
    # Macmillan & Creelman (2005): H = .8, F = .2 gives d' = 2 x 0.8416 = 1.68 and c = 0.
    s = detection.sensitivity(80, 100, 20, 100, correction=False)
    assert s.d_prime == pytest.approx(1.6832, abs=1e-4) and s.criterion == pytest.approx(0.0, abs=1e-12)
    # A liberal observer: H = .9, F = .5 -> d' = 1.2816, c = -0.6408.
    s = detection.sensitivity(90, 100, 50, 100, correction=False)
    assert (s.d_prime, s.criterion) == pytest.approx((1.2816, -0.6408), abs=1e-4)
    # The log-linear correction keeps perfect rates finite (Hautus 1995): H = 20.5/21, F = 0.5/21.
    s = detection.sensitivity(20, 20, 0, 20)
    assert s.d_prime == pytest.approx(stats.norm.ppf(20.5 / 21) - stats.norm.ppf(0.5 / 21))
    low, high = s.d_prime_ci
    assert low < s.d_prime < high


def test_sample_size_matches_cohen_and_statsmodels() -> None:
    result = power.participants_needed(0.5, 0.65, trials_per_participant_per_system=1)
    h = 2 * math.asin(math.sqrt(0.65)) - 2 * math.asin(math.sqrt(0.5))
    assert result.cohens_h == pytest.approx(h)
    assert result.trials_per_system == math.ceil(
        NormalIndPower().solve_power(h, alpha=0.05, power=0.8, ratio=1)
    )
    # Cohen (1988), Table 6.4.1: h = 0.30, two-sided alpha = .05, power .80 -> n = 175 per sample.
    cohen = power.participants_needed(0.5, math.sin(math.asin(math.sqrt(0.5)) + 0.15) ** 2)
    assert cohen.cohens_h == pytest.approx(0.30) and cohen.trials_per_system == 175
    clustered = power.participants_needed(0.5, 0.65, trials_per_participant_per_system=8, icc=0.05)
    assert clustered.design_effect == pytest.approx(1.35)
    assert clustered.participants == math.ceil(math.ceil(result.trials_per_system * 1.35) / 8)
    with pytest.raises(ValueError, match="different proportions"):
        power.participants_needed(0.5, 0.5)


def test_krippendorff_alpha_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units example:
    # interval alpha = 0.849.
    n = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
        ]
    )
    assert agreement.krippendorff_alpha_interval(data) == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_alpha_at_the_scale_of_a_real_study() -> None:
    """20 000 ratings (400 raters x 50 of 500 clips each): independent random ratings agree by chance
    only (alpha near 0); the computation no longer builds an n x n array of every rating pair."""
    rng = np.random.default_rng(0)
    data = np.full((400, 500), np.nan)
    for rater in range(400):
        data[rater, rng.choice(500, 50, replace=False)] = rng.integers(1, 6, 50)
    assert agreement.krippendorff_alpha_interval(data) == pytest.approx(0.0, abs=0.02)
    assert np.isnan(agreement.krippendorff_alpha_interval(np.full((3, 4), 3.0)))


def test_mos_intervals() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {"rating": rng.integers(1, 6, 400), "participant": np.repeat(np.arange(40), 10), "system": "ours"}
    )
    row = ratings.mos_table(table, ["system"]).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(DescrStatsW(table["rating"]).tconfint_mean())
    # Independent ratings: the participant bootstrap agrees with the t interval to within sampling error.
    assert row["boot_low"] == pytest.approx(row["ci_low"], abs=0.08)
    assert row["boot_high"] == pytest.approx(row["ci_high"], abs=0.08)


def test_friedman_kendalls_w_and_wilcoxon_effect_sizes() -> None:
    rng = np.random.default_rng(2)
    wide = pd.DataFrame(rng.normal(size=(25, 3)) + np.array([0.0, 0.4, 1.0]), columns=["a", "b", "c"])
    result = ratings.friedman(wide)
    ranks = wide.rank(axis=1)
    n, k = wide.shape
    chi2 = 12 / (n * k * (k + 1)) * (ranks.sum() ** 2).sum() - 3 * n * (k + 1)  # no ties
    assert result["statistic"] == pytest.approx(chi2)
    s = ((ranks.sum() - ranks.sum().mean()) ** 2).sum()
    assert result["kendalls_w"] == pytest.approx(12 * s / (n**2 * (k**3 - k)))
    pairs = ratings.pairwise_wilcoxon(wide)
    for _, row in pairs.iterrows():
        t = stats.wilcoxon(wide[row["a"]], wide[row["b"]]).statistic  # min(R+, R-)
        assert abs(row["rank_biserial"]) == pytest.approx(1 - 4 * t / (n * (n + 1)))
    assert pairs["p_holm"].to_numpy() == pytest.approx(multipletests(pairs["p_value"], method="holm")[1])


def _crossed(seed: int, effects: dict[str, float], link) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    person = rng.normal(0, 0.5, 40)
    clip = rng.normal(0, 0.5, 12)
    for p in range(40):
        for c in range(12):
            for system, effect in effects.items():
                rows.append(
                    {
                        "participant": f"p{p}",
                        "clip": f"c{c}",
                        "system": system,
                        "value": link(rng, effect + person[p] + clip[c]),
                    }
                )
    return pd.DataFrame(rows)


def test_linear_mixed_model_recovers_effects_and_equals_mean_differences_when_balanced() -> None:
    table = _crossed(3, {"real": 4.0, "ours": 3.5, "base": 2.5}, lambda rng, m: m + rng.normal(0, 0.6))
    table = table.rename(columns={"value": "rating"})
    fit = mixed.linear_system_effects(table, "real").set_index("system")
    means = table.groupby("system")["rating"].mean()
    # Balanced and complete: the GLS estimate equals the difference of the marginal means.
    assert fit.loc["ours", "difference"] == pytest.approx(means["ours"] - means["real"], abs=1e-6)
    assert fit.loc["base", "ci_low"] < -1.5 < fit.loc["base", "ci_high"]


def test_logistic_mixed_model_recovers_simulated_effects() -> None:
    truth = {"base": -1.0, "ours": 0.0}
    table = _crossed(4, truth, lambda rng, m: int(rng.random() < 1 / (1 + math.exp(-m))))
    fit = mixed.logistic_system_effects(table, "value", "base").table.set_index("system")
    assert fit.loc["ours", "ci_low"] < 1.0 < fit.loc["ours", "ci_high"]
    # Independent check: without random effects a plain logistic GLM gives a (slightly attenuated) estimate.
    import statsmodels.formula.api as smf

    glm = smf.logit("value ~ C(system, Treatment('base'))", table).fit(disp=False)
    assert fit.loc["ours", "log_odds"] == pytest.approx(glm.params.iloc[1], abs=0.15)


def test_the_marginal_ordinal_fallback_recovers_a_shift(monkeypatch) -> None:
    monkeypatch.setenv("VIS2SOUND_R", "off")
    rng = np.random.default_rng(5)
    system = np.repeat(["real", "ours"], 3000)
    latent = (system == "ours") * -1.0 + rng.logistic(size=system.size)
    rating = np.digitize(latent, [-2, -0.7, 0.7, 2]) + 1
    table = pd.DataFrame({"system": system, "rating": rating, "participant": "p", "clip": "c"})
    fitted = mixed.ordinal_system_effects(table, "real")
    assert fitted.engine.startswith("statsmodels OrderedModel (marginal")
    assert fitted.table.iloc[0]["log_odds"] == pytest.approx(-1.0, abs=0.12)


def test_clustered_rate_matches_the_cluster_robust_formula() -> None:
    """Independent computation (Cameron & Miller 2015, CR1 with one regressor):
    se² = G/(G−1) · Σ_g (Σ_{i∈g} (y_i − p̂))² / N², t with G − 1 degrees of freedom."""
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(25), rng.integers(3, 9, size=25))  # unequal answers per participant
    propensity = rng.uniform(0.05, 0.95, size=25)[clusters]
    y = (rng.random(len(clusters)) < propensity).astype(int)
    r = clustered_rate(y, clusters, margin=0.1)
    n, g, p = len(y), 25, y.mean()
    sums = np.bincount(clusters, weights=y - p)
    se = np.sqrt(g / (g - 1) * (sums**2).sum()) / n
    t = stats.t(g - 1)
    assert r.std_error == pytest.approx(se, rel=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx((p - t.ppf(0.975) * se, p + t.ppf(0.975) * se), rel=1e-10)
    assert r.p_chance == pytest.approx(2 * t.sf(abs(p - 0.5) / se), rel=1e-10)
    assert r.p_tost == pytest.approx(max(t.sf((p - 0.4) / se), t.cdf((p - 0.6) / se)), rel=1e-10)
    # Participants who answer alike make the interval wider than Wilson's, which treats answers as
    # independent.
    wilson = wilson_interval(int(y.sum()), n)
    assert r.ci_high - r.ci_low > wilson[1] - wilson[0]


def test_clustered_rate_when_every_answer_agrees() -> None:
    r = clustered_rate(np.zeros(20), np.repeat(np.arange(5), 4))
    assert r.rate == 0 and r.std_error == 0
    assert (r.ci_low, r.ci_high) == pytest.approx(wilson_interval(0, 5))  # over participants


def test_ranking_statistics_on_a_hand_worked_example() -> None:
    table = pd.DataFrame(
        [
            {"participant": "p1", "trial_index": 0, "system": s, "rank": r}
            for s, r in {"real": 1, "ours": 2, "base": 3}.items()
        ]
        + [
            {"participant": "p1", "trial_index": 1, "system": s, "rank": r}
            for s, r in {"real": 2, "ours": 1, "base": 3}.items()
        ]
        + [
            {"participant": "p2", "trial_index": 0, "system": s, "rank": r}
            for s, r in {"real": 1, "ours": 3, "base": 2}.items()
        ]
    )
    wide = ranking.rank_matrix(table)
    means = ranking.mean_ranks(wide).set_index("system")["mean_rank"]
    assert means.to_dict() == pytest.approx({"real": 4 / 3, "ours": 2.0, "base": 8 / 3})
    wins = ranking.win_matrix(wide)
    assert wins.loc["real", "ours"] == pytest.approx(2 / 3) and wins.loc["ours", "real"] == pytest.approx(
        1 / 3
    )
    assert wins.loc["real", "base"] == 1.0
    # Friedman by hand: n = 3 blocks, k = 3, rank sums 4, 6, 8 -> 12/(3*3*4) * 116 - 3*3*4 = 2.667.
    assert ranking.ranking_friedman(wide)["statistic"] == pytest.approx(12 / 36 * 116 - 36)


def test_ranking_friedman_blocks_are_participants_not_trials() -> None:
    """p1 ranks two videos, p2 one: the blocks are p1's mean ranks (real 1.5, ours 1.5, base 3) and
    p2's (1, 3, 2), so n = 2, not 3 trials. Rank sums 2.5, 4.5, 5: chi² = 12/(n k (k+1)) Σ R² − 3n(k+1)
    = 25.75 − 24 = 1.75, over the tie correction 1 − Σ(t³−t)/(n(k³−k)) = 0.875: 2.0."""
    rows = [
        ("p1", 0, {"real": 1, "ours": 2, "base": 3}),
        ("p1", 1, {"real": 2, "ours": 1, "base": 3}),
        ("p2", 0, {"real": 1, "ours": 3, "base": 2}),
    ]
    table = pd.DataFrame(
        [
            {"participant": p, "trial_index": i, "system": s, "rank": r}
            for p, i, ranks in rows
            for s, r in ranks.items()
        ]
    )
    people = ranking.participant_mean_ranks(table)
    assert people.loc["p1"].to_dict() == {"base": 3.0, "ours": 1.5, "real": 1.5}
    result = ranking.ranking_friedman(people)
    expected = stats.friedmanchisquare(*(people[c].to_numpy() for c in people.columns)).statistic
    assert result["n"] == 2 and result["statistic"] == pytest.approx(expected)
    within = people.rank(axis=1)
    sums = within.sum()
    n, k = 2, 3
    chi = 12 / (n * k * (k + 1)) * (sums**2).sum() - 3 * n * (k + 1)
    ties = 1 - (2**3 - 2) / (n * (k**3 - k))
    assert result["statistic"] == pytest.approx(chi / ties) == pytest.approx(2.0)
