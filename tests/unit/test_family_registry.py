"""A family defined in this file alone works everywhere a built-in one does (issue 10).

Before: a renamed ``Poisson`` subclass passed ``fit_mle()`` but ``fit()`` raised "no likelihood
for family 'my_poisson'" (the likelihood, the dispersion, the y_rep sampler and the plots
switched on ``family.name``). Deterministic: the toy family gives the built-in Poisson's
numbers to rounding, draws included (the same seed).
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bayesglm as bg  # noqa: E402


class MyPoisson(bg.families.Poisson):
    """The Poisson family under another name: nothing else is defined."""

    name = "my_poisson"


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(4)
    x = rng.normal(size=40)
    X = np.column_stack([np.ones(40), x])
    y = rng.poisson(np.exp(0.4 + 0.6 * x))
    out = {}
    for key, family in (("toy", MyPoisson()), ("builtin", bg.families.Poisson())):
        model = bg.GLM(y, X, family=family)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.SamplingWarning)
            out[key] = (model, model.fit_mle(),
                        model.fit(draws=150, chains=2, seed=3, progress=False))
    return out


def test_toy_family_fits_like_the_builtin(fits):
    (_, mle_t, fit_t), (_, mle_b, fit_b) = fits["toy"], fits["builtin"]
    np.testing.assert_allclose(mle_t.params, mle_b.params, rtol=1e-12)
    np.testing.assert_allclose(mle_t.bse, mle_b.bse, rtol=1e-12)
    assert mle_t.llf == pytest.approx(mle_b.llf, rel=1e-12)
    np.testing.assert_allclose(fit_t.idata.posterior["beta"], fit_b.idata.posterior["beta"],
                               rtol=1e-9)
    assert type(fit_t.family) is MyPoisson


def test_toy_family_predicts_loo_and_plots(fits):
    (_, _, fit_t), (_, _, fit_b) = fits["toy"], fits["builtin"]
    np.testing.assert_allclose(fit_t.predict()["mean"], fit_b.predict()["mean"], rtol=1e-9)
    resp = fit_t.predict(kind="response", seed=1)
    assert np.all(resp["mean"] >= 0)
    assert fit_t.loo().elpd_loo == pytest.approx(fit_b.loo().elpd_loo, rel=1e-9)
    y_rep = fit_t.idata.posterior_predictive["y"].to_numpy()
    assert np.array_equal(y_rep, np.round(y_rep))  # counts, from the inherited sampler
    ax = bg.plot_ppc(fit_t)
    assert ax.get_figure() is not None
    plt.close("all")


def test_registering_gives_the_toy_a_name(fits, tmp_path):
    """Unregistered, the toy works by object; registered, by its name and through load()."""
    model, _, fit_t = fits["toy"]
    path = tmp_path / "toy.nc"
    fit_t.save(path)
    with pytest.raises(ValueError, match="my_poisson"):  # a FitFileError
        bg.load(path)
    bg.families.register(MyPoisson)
    try:
        assert type(bg.families.get_family("my_poisson")) is MyPoisson
        loaded = bg.load(path)
        assert type(loaded.family) is MyPoisson
        assert loaded.loo().elpd_loo == pytest.approx(fit_t.loo().elpd_loo, rel=1e-12)
    finally:
        del bg.families.FAMILIES["my_poisson"]
