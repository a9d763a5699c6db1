"""bayesglm.interpret's rules beyond the R references (tests/reference/test_interpret.py): a
likelihood family's mean (a zero-inflated model's (1 - zi) mu) under the delta method in (beta,
u), datagrid's defaults, row-level tables, and what is refused with a named reason."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesglm as bg


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    n = 150
    x = rng.normal(size=n)
    site = rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.25, 0.25])
    mu = np.exp(0.4 + 0.5 * x + 0.3 * (site == "south"))
    y = np.where(rng.random(n) < 0.25, 0, rng.poisson(mu))
    return pd.DataFrame({"y": y, "x": x, "site": site, "g": np.arange(n) % 10})


def test_a_zero_inflated_mean_by_the_delta_method_in_beta_and_u(frame):
    fam = bg.families.ZeroInflatedPoisson()
    mle = bg.glm("y ~ x + site", frame, family=fam).fit_mle()
    t = mle.avg_predictions()
    X = mle.model.design.X
    p = X.shape[1]

    def avg(theta):  # (1 - zi) exp(X beta), zi = expit(u): by hand, in NumPy
        return np.mean((1 - expit(theta[p])) * np.exp(X @ theta[:p]))

    theta = mle.theta
    assert t["estimate"].iloc[0] == pytest.approx(avg(theta), rel=1e-12)
    # the Jacobian by central differences, the covariance in (beta, u)
    h = 1e-6
    J = np.array([(avg(theta + h * e) - avg(theta - h * e)) / (2 * h)
                  for e in np.eye(theta.size)])
    se = float(np.sqrt(J @ mle.cov_theta @ J))
    assert t["std_error"].iloc[0] == pytest.approx(se, rel=1e-6)
    # the ratio of the zero-inflated means across x + 1 is exp(beta_x): zi cancels
    r = mle.avg_comparisons("x", comparison="ratio")
    assert r["estimate"].iloc[0] == pytest.approx(np.exp(mle.params["x"]), rel=1e-10)


def test_datagrid_means_modes_and_order(frame):
    model = bg.glm("y ~ x + site", frame, family="poisson")
    g = bg.datagrid(model, site=["east", "south"], x=[0, 1])
    assert list(g.columns) == ["x", "site"]
    assert list(zip(g["site"], g["x"])) == [("east", 0), ("east", 1), ("south", 0),
                                            ("south", 1)]  # the last varies fastest
    base = bg.datagrid(model)
    assert base["x"].iloc[0] == pytest.approx(frame["x"].mean()) and len(base) == 1
    assert base["site"].iloc[0] == "north"  # the most frequent
    tie = frame.assign(site=np.where(np.arange(len(frame)) % 2, "b", "a"))
    assert bg.datagrid(bg.glm("y ~ site", tie, family="poisson"))["site"].iloc[0] == "a"


def test_row_level_tables_carry_their_rows(frame):
    mle = bg.glm("y ~ x + site", frame, family="poisson").fit_mle()
    p = mle.predictions()
    assert len(p) == len(frame) and list(p.columns[:2]) == ["x", "site"]
    np.testing.assert_allclose(p["estimate"], mle.mu, rtol=1e-12)
    pred = mle.predict()
    np.testing.assert_allclose(p["conf_low"], pred["mean_ci_lower"], rtol=1e-10)
    c = mle.comparisons("site")
    assert len(c) == 2 * len(frame) and set(c["contrast"]) == {"north - east", "south - east"}
    s = mle.slopes("x")
    np.testing.assert_allclose(s["estimate"], mle.mu * mle.params["x"], rtol=1e-9)
    # predictions by a group average within it
    by = mle.predictions(by="site")
    np.testing.assert_allclose(by["estimate"], frame.assign(mu=mle.mu.to_numpy())
                               .groupby("site")["mu"].mean().to_numpy(), rtol=1e-12)


def test_an_ordinal_model_gives_a_probability_per_category(frame):
    """Cumulative logit: a row per (row, category) in "group", the probabilities and their
    delta-method SEs those of predict() (tested against polr and clm elsewhere); averages sum
    to 1, comparisons and slopes to 0 over the categories; type="link" is eta, one a row."""
    ordinal = frame.assign(o=np.clip(frame["y"], 0, 3))
    mle = bg.glm("o ~ x", ordinal, family="cumulative").fit_mle()
    rows = ordinal.iloc[:3]
    t = mle.predictions(rows)
    assert list(t["group"].astype(int)) == [0, 1, 2, 3] * 3
    pr = mle.predict(rows)
    levels = [str(k) for k in range(4)]
    np.testing.assert_allclose(t["estimate"], pr[levels].to_numpy().ravel(), rtol=1e-10)
    np.testing.assert_allclose(t["std_error"], pr[[f"{k}_se" for k in levels]].to_numpy()
                               .ravel(), rtol=1e-6)
    assert mle.avg_predictions()["estimate"].sum() == pytest.approx(1.0, abs=1e-12)
    assert mle.avg_comparisons("x")["estimate"].sum() == pytest.approx(0.0, abs=1e-12)
    assert mle.avg_slopes("x")["estimate"].sum() == pytest.approx(0.0, abs=1e-12)
    link = mle.predictions(rows, type="link")
    np.testing.assert_allclose(link["estimate"], mle.params["x"] * rows["x"], rtol=1e-12)


def test_what_is_refused(frame):
    X = np.column_stack([np.ones(len(frame)), frame["x"]])
    arrays = bg.GLM(frame["y"].to_numpy(), X, family="poisson").fit_mle()
    with pytest.raises(ValueError, match="array interface keeps only the design"):
        arrays.avg_predictions()
    with pytest.raises(ValueError, match=r"build the model with bg.glm\(formula"):
        arrays.avg_comparisons("x1", pd.DataFrame({"x1": [0.0]}))
    with pytest.raises(TypeError, match="variables must be"):
        bg.glm("y ~ x", frame, family="poisson").fit_mle().avg_comparisons(3)
