"""Property tests of every registered link and family (``bayesglm.links`` / ``bayesglm.families``).

Links are taken from ``links.LINKS`` plus a few ``Power(p)``; families from ``families.FAMILIES``
with every allowed link. All checks use small vectorised arrays and eager JAX (no per-point
Python loops, no jit of many distinct functions) so the file runs in a few seconds.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import bayesglm  # noqa: F401
from bayesglm import families as F
from bayesglm import links as L


# this module's own JAX computations (references, direct calls of links and families) in
# float64: bayesglm no longer switches JAX's global setting (conftest.jax_float64)
pytestmark = pytest.mark.usefixtures("jax_float64")


# ---------------------------------------------------------------------------------------------
# links: the cases and their classification
# ---------------------------------------------------------------------------------------------

POWERS = (2.0, 0.5, -1.0, 1.0 / 3.0, -0.5, 1.0)
LINK_CASES = [cls() for cls in L.LINKS.values()] + [L.Power(p) for p in POWERS]


def _link_id(link):
    return link.name if type(link) is not L.Power else f"power({link.power:g})"


LINK_IDS = [_link_id(link) for link in LINK_CASES]
UNIT_LINK_NAMES = {"logit", "probit", "cloglog", "loglog", "cauchit"}


def _kind(link) -> str:
    """'unit' (mu in (0,1)), 'positive' (mu > 0, eta restricted for power links) or 'real'."""
    if link.name in UNIT_LINK_NAMES:
        return "unit"
    if isinstance(link, L.Log):
        return "log"
    if isinstance(link, L.Power) and link.power != 1.0:
        return "power"
    return "real"


def _increasing(link) -> bool:
    return not (isinstance(link, L.Power) and link.power < 0)


# Eager JAX compiles every primitive once per (shape, dtype): keeping every array the same
# length N (link grids, the wide eta grid, the families' 8 x 8 (y, mu) grids) makes the whole
# file compile each op only once, which is what keeps the run time down.
N = 64
NW = N


def _pad(x, n):
    """``x`` (sorted) padded to length ``n`` by repeating its last element."""
    x = np.asarray(x, dtype=float)
    assert len(x) <= n
    return np.concatenate([x, np.full(n - len(x), x[-1])])


def _mu_grid(link, dtype=np.float64):
    """N increasing valid means: (1e-6, 1 - 1e-6) for unit links, (1e-4, 1e4) for positive ones."""
    kind = _kind(link)
    if kind == "unit":
        tails = np.array([1e-6, 1e-5, 1e-4, 1e-3, 1e-2])
        mu = np.concatenate([tails, np.linspace(0.05, 0.95, N - 10), 1.0 - tails[::-1]])
    elif kind in ("log", "power"):
        mu = np.logspace(-4, 4, N)
    else:
        mu = np.concatenate([-np.logspace(4, -4, N // 2), np.logspace(-4, 4, N // 2)])
    assert len(mu) == N
    return jnp.asarray(mu, dtype=dtype)


_ETA_EXTRA = np.array([1e-3, 0.5, 1.0, 2.0, 5.0, 8.0, 20.0, 37.0, 40.0, 88.0, 89.0, 100.0, 300.0, 699.9])
ETA_WIDE = np.unique(np.concatenate([np.linspace(-700.0, 700.0, 33), _ETA_EXTRA, -_ETA_EXTRA]))


def _eta_wide(link, dtype):
    """A sorted grid over [-700, 700], restricted to the eta that map into the link's domain."""
    eta = ETA_WIDE
    if _kind(link) == "power":
        eta = eta[eta > 0]
    return jnp.asarray(_pad(eta, NW), dtype=dtype)


def _vgrad(f):
    """Elementwise derivative of an elementwise function by forward-mode autodiff (a JVP with
    unit tangents: the same shapes as ``f`` itself, so no new compilations from ``vmap``)."""
    return lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),))[1]


link_param = pytest.mark.parametrize("link", LINK_CASES, ids=LINK_IDS)
dtype_param = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


# ---------------------------------------------------------------------------------------------
# links: mathematics
# ---------------------------------------------------------------------------------------------


@link_param
def test_link_inverse_roundtrip(link):
    mu = _mu_grid(link)
    np.testing.assert_allclose(link.inverse(link.link(mu)), mu, rtol=1e-9, atol=0)


@link_param
def test_link_deriv_matches_autodiff(link):
    mu = _mu_grid(link)
    np.testing.assert_allclose(link.deriv(mu), _vgrad(link.link)(mu), rtol=1e-9)


@link_param
def test_inverse_deriv_matches_autodiff(link):
    eta = link.link(_mu_grid(link))
    np.testing.assert_allclose(link.inverse_deriv(eta), _vgrad(link.inverse)(eta), rtol=1e-9)


@link_param
def test_inverse_deriv_times_deriv_is_one(link):
    eta = link.link(_mu_grid(link))
    product = link.inverse_deriv(eta) * link.deriv(link.inverse(eta))
    np.testing.assert_allclose(product, 1.0, rtol=1e-9)


@link_param
def test_inverse_autodiff_at_zero_and_one(link):
    """Autodiff of the inverse is right at the kinks of piecewise formulas (eta = 0, +-1)."""
    kinks = [-1.0, -1e-12, 0.0, 1e-12, 1.0] if _kind(link) != "power" else [0.5, 1.0, 2.0]
    eta = jnp.asarray(_pad(kinks, N))
    np.testing.assert_allclose(_vgrad(link.inverse)(eta), link.inverse_deriv(eta), rtol=1e-9)


@link_param
@dtype_param
def test_inverse_is_finite_and_in_range_over_wide_eta(link, dtype):
    eta = _eta_wide(link, dtype)
    mu = link.inverse(eta)
    dmu = link.inverse_deriv(eta)
    assert mu.dtype == dtype and dmu.dtype == dtype
    mu, dmu = np.asarray(mu), np.asarray(dmu)
    assert np.all(np.isfinite(mu)), eta[~np.isfinite(mu)]
    assert np.all(np.isfinite(dmu)), eta[~np.isfinite(dmu)]
    kind = _kind(link)
    if kind == "unit":
        eps = np.finfo(dtype).eps
        assert np.all((mu > 0) & (mu < 1))
        assert np.all((mu >= eps) & (mu <= 1 - eps))  # clipped away from 0 and 1 by eps
        if link.name != "cauchit":  # the Cauchy tails are too heavy to reach the clip
            # the far tails are exactly the clip values
            assert mu[0] == pytest.approx(eps, rel=1e-6) and mu[-1] == pytest.approx(1 - eps)
    elif kind in ("log", "power"):
        assert np.all(mu > 0)
    if _increasing(link):
        assert np.all(dmu > 0), eta[dmu <= 0]
    else:
        assert np.all(dmu < 0), eta[dmu >= 0]


@link_param
@dtype_param
def test_inverse_is_monotone(link, dtype):
    eta = _eta_wide(link, dtype)  # sorted
    diffs = np.diff(np.asarray(link.inverse(eta)))
    if _increasing(link):
        assert np.all(diffs >= 0)
    else:
        assert np.all(diffs <= 0)


@link_param
def test_inverse_is_strictly_monotone_inside_the_domain(link):
    eta = jnp.sort(link.link(_mu_grid(link)))
    diffs = np.diff(np.asarray(link.inverse(eta)))
    assert np.all(diffs > 0) if _increasing(link) else np.all(diffs < 0)


@link_param
def test_valid_eta(link):
    eta = _pad([-5.0, -1e-3, 0.0, 1e-3, 5.0, np.nan, np.inf, -np.inf], N)
    expected = np.isfinite(eta) & ((eta > 0) if _kind(link) == "power" else True)
    np.testing.assert_array_equal(link.valid_eta(jnp.asarray(eta)), expected)


# ---------------------------------------------------------------------------------------------
# links: registry, names and value semantics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(L.LINKS), ids=str)
def test_get_link_by_name(name):
    link = L.get_link(name)
    assert type(link) is L.LINKS[name] and link.name == name
    assert L.get_link(name.upper()) == link
    assert L.get_link(link) is link
    assert L.get_link(L.LINKS[name]) == link


@pytest.mark.parametrize(
    "alias, cls",
    [("1/mu^2", L.InverseSquared), ("inverse_power", L.Inverse), ("InverseSquared", L.InverseSquared)],
    ids=["1/mu^2", "inverse_power", "InverseSquared"],
)
def test_get_link_aliases(alias, cls):
    assert type(L.get_link(alias)) is cls


def test_get_link_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown link 'nosuchlink'") as info:
        L.get_link("nosuchlink")
    for name in L.LINKS:
        assert name in str(info.value)
    assert "Power(p)" in str(info.value)


@pytest.mark.parametrize("bad", [3, None, L.Power], ids=["int", "None", "Power-class"])
def test_get_link_wrong_type(bad):
    with pytest.raises(TypeError, match="link must be"):
        L.get_link(bad)


def test_get_link_keeps_power_instances():
    p = L.Power(0.25)
    assert L.get_link(p) is p


@pytest.mark.parametrize("bad", [0, 0.0, math.inf, -math.inf, math.nan], ids=["0", "0.0", "inf", "-inf", "nan"])
def test_power_rejects_bad_powers(bad):
    with pytest.raises(ValueError, match="Power link"):
        L.Power(bad)


def test_link_equality_and_hash():
    assert L.Power(2) == L.Power(2.0) and hash(L.Power(2)) == hash(L.Power(2.0))
    assert L.Power(2) != L.Power(3)
    assert L.Inverse() != L.Power(-2)
    assert L.InverseSquared() != L.Power(-1)
    assert L.Sqrt() != L.Power(2)
    assert L.Inverse() == L.Inverse() and hash(L.Inverse()) == hash(L.Inverse())
    assert L.Logit() != L.Probit()
    assert L.Log() != "log" and L.Logit() != None  # noqa: E711
    assert len({cls() for cls in L.LINKS.values()}) == len(L.LINKS)
    assert len({L.Power(2), L.Power(2.0), L.Power(0.5), L.Sqrt()}) == 3
    # the named power links are the functions they say
    assert (L.Inverse().power, L.InverseSquared().power, L.Sqrt().power) == (-1.0, -2.0, 0.5)


def test_link_repr():
    assert repr(L.Power(2)) == "Power(2)"
    assert repr(L.Inverse()) == "Inverse()"
    assert repr(L.Logit()) == "Logit()"


# ---------------------------------------------------------------------------------------------
# families: construction and registry
# ---------------------------------------------------------------------------------------------

FAMILY_LINK_CASES = []
for _fname, _fcls in F.FAMILIES.items():
    for _lcls in _fcls.links:
        FAMILY_LINK_CASES.append(pytest.param(_fcls, _lcls(), id=f"{_fname}-{_lcls.name}"))
    if _fcls.allow_power:
        for _p in (2.0, 0.5, -1.0):
            FAMILY_LINK_CASES.append(pytest.param(_fcls, L.Power(_p), id=f"{_fname}-power({_p:g})"))

#: the exponential-dispersion families (IRLS, a variance function, a unit deviance); the families
#: fitted on their exact likelihood (issue 12) have tests of their own
#: (tests/unit/test_likelihood_families.py)
ED_FAMILIES = {k: v for k, v in F.FAMILIES.items() if not getattr(v, "exact_likelihood", False)}
ED_FAMILY_LINK_CASES = [c for c in FAMILY_LINK_CASES if c.values[0] in ED_FAMILIES.values()]

DISALLOWED_CASES = []
for _fname, _fcls in F.FAMILIES.items():
    for _lname, _lcls in L.LINKS.items():
        if _lcls not in _fcls.links:
            DISALLOWED_CASES.append(pytest.param(_fcls, _lcls(), id=f"{_fname}-{_lname}"))
    if not _fcls.allow_power:
        DISALLOWED_CASES.append(pytest.param(_fcls, L.Power(2.0), id=f"{_fname}-power(2)"))


@pytest.mark.parametrize("fam_cls, link", FAMILY_LINK_CASES)
def test_every_allowed_link_constructs(fam_cls, link):
    fam = fam_cls(link)
    assert fam.link == link
    assert F.get_family(fam_cls.name, link) == fam
    assert F.get_family(fam_cls(), link) == fam
    if type(link) is not L.Power:
        assert fam_cls(link.name) == fam
        assert F.get_family(fam_cls.name, link.name) == fam
    assert fam == fam_cls(link) and hash(fam) == hash(fam_cls(link))
    assert repr(link) in repr(fam)
    if not getattr(fam, "mean_is_inverse_link", True):
        return  # its mean is not the link's inverse (ordinal, zero parts): their own tests
    # the link's inverse maps a moderate eta to a mean the family accepts
    eta = link.link(jnp.asarray(_pad([0.2, 0.5, 0.7] if fam_cls.domain.upper == 1.0 else [0.2, 1.0, 3.0], N)))
    assert np.all(fam.valid_mu(link.inverse(eta)))


@pytest.mark.parametrize("fam_cls, link", DISALLOWED_CASES)
def test_disallowed_link_raises_listing_allowed(fam_cls, link):
    with pytest.raises(ValueError, match=f"not allowed for the {fam_cls.name} family") as info:
        fam_cls(link)
    message = str(info.value)
    for cls in fam_cls.links:
        assert cls.name in message
    assert ("power(p)" in message) == fam_cls.allow_power
    with pytest.raises(ValueError, match="not allowed"):
        F.get_family(fam_cls.name, link)


@pytest.mark.parametrize("name, fam_cls", list(F.FAMILIES.items()), ids=list(F.FAMILIES))
def test_family_data_and_default_link(name, fam_cls):
    fam = fam_cls()
    assert fam.name == name
    assert type(fam.link) is fam_cls.default_link and fam_cls.default_link in fam_cls.links
    assert isinstance(fam.domain, F.Domain)
    assert F.get_family(name) == fam and F.get_family(name.upper()) == fam
    assert F.get_family(fam_cls) == fam
    assert F.get_family(fam) is fam and F.get_family(fam, fam.link) is fam
    assert fam != object()


@pytest.mark.parametrize(
    "alias, cls",
    [
        ("normal", F.Gaussian),
        ("bernoulli", F.Binomial),
        ("logistic", F.Binomial),
        ("inversegaussian", F.InverseGaussian),
        ("inverse.gaussian", F.InverseGaussian),
        ("inverse-gaussian", F.InverseGaussian),
        ("negativebinomial", F.NegativeBinomial),
        ("negbin", F.NegativeBinomial),
        ("NB", F.NegativeBinomial),
        ("negative-binomial", F.NegativeBinomial),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_get_family_aliases(alias, cls):
    assert type(F.get_family(alias)) is cls


def test_get_family_defaults_and_overrides():
    assert F.get_family(None) == F.Gaussian()
    assert F.get_family(None, "log") == F.Gaussian("log")
    assert F.get_family(F.Poisson(), "sqrt") == F.Poisson(L.Sqrt())
    nb = F.get_family(F.NegativeBinomial(alpha=0.5), "sqrt")
    assert isinstance(nb, F.NegativeBinomial) and nb.alpha == 0.5 and nb.link == L.Sqrt()


def test_get_family_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown family 'nosuchfamily'") as info:
        F.get_family("nosuchfamily")
    for name in F.FAMILIES:
        assert name in str(info.value)


def test_get_family_wrong_type():
    with pytest.raises(TypeError, match="family must be"):
        F.get_family(3)


@pytest.mark.parametrize("alpha", [0.0, -1.0, math.inf, math.nan], ids=["0", "-1", "inf", "nan"])
def test_negative_binomial_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        F.NegativeBinomial(alpha=alpha)


def test_negative_binomial_alpha_in_equality_and_repr():
    assert F.NegativeBinomial(alpha=0.5) == F.NegativeBinomial(alpha=0.5)
    assert hash(F.NegativeBinomial(alpha=0.5)) == hash(F.NegativeBinomial(alpha=0.5))
    assert F.NegativeBinomial(alpha=0.5) != F.NegativeBinomial(alpha=2.0)
    assert F.NegativeBinomial() != F.NegativeBinomial(alpha=1.0)
    assert F.NegativeBinomial().alpha is None
    assert "alpha=0.5" in repr(F.NegativeBinomial(alpha=0.5))


def test_family_equality_depends_on_link():
    assert F.Poisson() == F.Poisson("log") != F.Poisson("sqrt")
    assert F.Gamma() != F.InverseGaussian(L.Inverse())
    assert len({F.Poisson(), F.Poisson("log"), F.Poisson("identity")}) == 2


# ---------------------------------------------------------------------------------------------
# families: the mathematics (independent of the link)
# ---------------------------------------------------------------------------------------------
# Each case: (family, dispersion, y grid, mu grid). y and mu are valid responses and means.

# 8 responses x 8 means: the (y, mu) grids are all of length N = 64
_COUNTS = np.array([0.0, 1.0, 2.0, 3.0, 5.0, 17.0, 40.0, 100.0])
_COUNT_MU = np.array([1e-4, 0.3, 1.0, 2.5, 4.5, 20.0, 60.0, 150.0])
_POS_Y = np.array([1e-3, 0.05, 0.2, 1.0, 3.3, 12.0, 50.0, 1e3])
_POS_MU = np.array([1e-2, 0.1, 0.5, 1.0, 2.2, 7.0, 100.0, 2e3])
_REAL_Y = np.array([-50.0, -3.0, -0.5, 0.0, 0.1, 2.0, 7.0, 40.0])
_REAL_MU = np.array([-20.0, -1.0, 0.0, 0.3, 1.5, 5.0, 60.0, 1e3])
_UNIT_Y = np.array([0.0, 0.1, 0.25, 0.4, 0.5, 0.75, 0.9, 1.0])
_UNIT_MU = np.array([1e-6, 0.05, 0.3, 0.5, 0.6, 0.77, 0.999, 1 - 1e-6])

MATH_CASES = [
    pytest.param(F.Gaussian(), 1.7, _REAL_Y, _REAL_MU, id="gaussian"),
    pytest.param(F.Binomial(), 1.0, _UNIT_Y, _UNIT_MU, id="binomial"),
    pytest.param(F.Poisson(), 1.0, _COUNTS, _COUNT_MU, id="poisson"),
    pytest.param(F.Gamma(), 0.6, _POS_Y, _POS_MU, id="gamma"),
    pytest.param(F.InverseGaussian(), 0.4, _POS_Y, _POS_MU, id="inverse_gaussian"),
    pytest.param(F.NegativeBinomial(alpha=0.5), 0.5, _COUNTS, _COUNT_MU, id="negative_binomial(a=0.5)"),
    pytest.param(F.NegativeBinomial(alpha=2.0), 2.0, _COUNTS, _COUNT_MU, id="negative_binomial(a=2)"),
]


def _outer(y, mu):
    yy, mm = np.meshgrid(y, mu, indexing="ij")
    return jnp.asarray(yy.ravel()), jnp.asarray(mm.ravel())


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
def test_variance_positive(fam, disp, y, mu):
    _, mm = _outer(y, mu)
    v = fam.variance(mm, disp)
    assert v.shape == mm.shape
    assert np.all(np.isfinite(v)) and np.all(np.asarray(v) > 0)


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
def test_unit_deviance_zero_at_y_and_nonnegative(fam, disp, y, mu):
    yy, mm = _outer(y, mu)
    # saturated: d(y, y) = 0, including the boundary responses (y = 0 counts, y in {0, 1} for
    # Binomial) where R's y log(y / mu) convention gives 0
    np.testing.assert_array_equal(fam.unit_deviance(yy, yy, disp), 0.0)
    d = np.asarray(fam.unit_deviance(yy, mm, disp))
    assert np.all(np.isfinite(d)) and np.all(d >= 0)
    assert np.all(d[np.asarray(yy != mm)] > 0)


def test_binomial_deviance_at_the_boundary_responses():
    mu = jnp.asarray(_pad([1e-6, 0.01, 0.3, 0.5, 0.9, 1 - 1e-6], N))
    fam = F.Binomial()
    np.testing.assert_allclose(fam.unit_deviance(jnp.zeros_like(mu), mu), -2 * np.log1p(-mu), rtol=1e-9)
    np.testing.assert_allclose(fam.unit_deviance(jnp.ones_like(mu), mu), -2 * np.log(mu), rtol=1e-9)
    # log link: mu = exp(0) = 1 exactly is reachable; y = 1 there is a perfect fit
    assert float(F.Binomial("log").unit_deviance(1.0, L.Log().inverse(0.0))) == 0.0


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
def test_unit_deviance_gradient_is_score(fam, disp, y, mu):
    """d d(y, mu) / d mu = -2 (y - mu) / V(mu), finite also at y = 0 (and y = 1 for Binomial)."""
    yy, mm = _outer(y, mu)
    grad = _vgrad(lambda m: fam.unit_deviance(yy, m, disp))(mm)
    expected = -2.0 * (yy - mm) / fam.variance(mm, disp)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
@pytest.mark.parametrize("weight", [1.0, 2.5], ids=["w1", "w2.5"])
def test_saturated_loglike_identity(fam, disp, y, mu, weight):
    """trials * d(y, mu) = 2 * phi * (loglike(y, y) - loglike(y, mu)), with phi the dispersion
    for the families that have one (trials a variance weight) and 1 for the others."""
    if isinstance(fam, F.Binomial):
        trials = jnp.asarray([1.0, 10.0, 4.0, 5.0, 2.0, 4.0, 10.0, 1.0]) * (2.0 if weight != 1.0 else 1.0)
        y = np.round(y * np.asarray(trials)) / np.asarray(trials)  # y = k / trials, k integer
    elif isinstance(fam, (F.Poisson, F.NegativeBinomial)):
        if weight != 1.0:
            pytest.skip("trials is not a weight in the count families' log-likelihood")
        trials = 1.0
    else:
        trials = weight
    phi = disp if fam.has_dispersion else 1.0
    y = jnp.asarray(y)
    if not np.isscalar(trials):
        trials = trials[:, None] * jnp.ones((1, len(mu)))
        trials = trials.ravel()
    yy, mm = _outer(y, mu)
    lhs = trials * fam.unit_deviance(yy, mm, disp)
    rhs = 2.0 * phi * (fam.loglike_obs(yy, yy, disp, trials) - fam.loglike_obs(yy, mm, disp, trials))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-10)


# -- loglike_obs against scipy.stats ----------------------------------------------------------


def _assert_close(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("sigma2", [0.3, 1.0, 2.5], ids=lambda s: f"sigma2={s}")
@pytest.mark.parametrize("w", [1.0, 3.5], ids=lambda w: f"w={w}")
def test_gaussian_loglike_vs_scipy(sigma2, w):
    yy, mm = _outer(_REAL_Y, _REAL_MU)
    expected = stats.norm.logpdf(yy, loc=mm, scale=np.sqrt(sigma2 / w))
    _assert_close(F.Gaussian().loglike_obs(yy, mm, sigma2, w), expected)


def test_binomial_loglike_vs_scipy():
    k = np.array([0.0, 1.0, 3.0, 7.0, 2.0, 5.0, 12.0, 30.0])
    n = np.array([7.0, 1.0, 7.0, 7.0, 3.0, 20.0, 20.0, 40.0])
    kk, mm = _outer(k, _UNIT_MU)
    nn, _ = _outer(n, _UNIT_MU)
    expected = stats.binom.logpmf(kk, nn, mm)
    fam = F.Binomial()
    _assert_close(fam.loglike_obs(kk / nn, mm, 1.0, nn), expected)
    _assert_close(fam.loglike_obs(kk / nn, mm, 3.7, nn), expected)  # dispersion is ignored


def test_poisson_loglike_vs_scipy():
    yy, mm = _outer(_COUNTS, _COUNT_MU)
    expected = stats.poisson.logpmf(yy, mm)
    fam = F.Poisson()
    _assert_close(fam.loglike_obs(yy, mm), expected)
    _assert_close(fam.loglike_obs(yy, mm, 2.0), expected)  # dispersion is ignored


@pytest.mark.parametrize("phi", [0.05, 0.6, 1.0, 3.0], ids=lambda p: f"phi={p}")
@pytest.mark.parametrize("w", [1.0, 2.5], ids=lambda w: f"w={w}")
def test_gamma_loglike_vs_scipy(phi, w):
    yy, mm = _outer(_POS_Y, _POS_MU)
    shape = w / phi  # trials acts as a variance weight: dispersion phi / w
    expected = stats.gamma.logpdf(yy, a=shape, scale=mm / shape)
    _assert_close(F.Gamma().loglike_obs(yy, mm, phi, w), expected)


@pytest.mark.parametrize("phi", [0.05, 0.4, 1.0, 3.0], ids=lambda p: f"phi={p}")
@pytest.mark.parametrize("w", [1.0, 2.5], ids=lambda w: f"w={w}")
def test_inverse_gaussian_loglike_vs_scipy(phi, w):
    yy, mm = _outer(_POS_Y, _POS_MU)
    lam = w / phi
    expected = stats.invgauss.logpdf(yy, mm / lam, scale=lam)
    _assert_close(F.InverseGaussian().loglike_obs(yy, mm, phi, w), expected)


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 2.0, 10.0], ids=lambda a: f"alpha={a}")
def test_negative_binomial_loglike_vs_scipy(alpha):
    yy, mm = _outer(_COUNTS, _COUNT_MU)
    expected = stats.nbinom.logpmf(yy, 1.0 / alpha, 1.0 / (1.0 + alpha * mm))
    _assert_close(F.NegativeBinomial(alpha=alpha).loglike_obs(yy, mm, alpha), expected)


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
def test_loglike_keeps_shape_and_is_finite(fam, disp, y, mu):
    yy, mm = _outer(y, mu)
    ll = fam.loglike_obs(yy, mm, disp)
    assert ll.shape == yy.shape and np.all(np.isfinite(ll))


# ---------------------------------------------------------------------------------------------
# families: the response domain and valid means (data)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fam, values, expected, text",
    [
        (F.Gaussian(), [-1e300, -1.0, 0.0, 2.5, np.inf, -np.inf, np.nan],
         [True, True, True, True, False, False, False], "(-inf, inf)"),
        (F.Binomial(), [0.0, 0.5, 1.0, -0.1, 1.1, np.nan],
         [True, True, True, False, False, False], "[0, 1]"),
        (F.Poisson(), [0.0, 1.0, 3.0, 2.5, -1.0, np.inf, np.nan],
         [True, True, True, True, False, False, False], "integers in [0, inf)"),
        (F.NegativeBinomial(), [0.0, 7.0, -1.0, np.inf],
         [True, True, False, False], "integers in [0, inf)"),
        (F.Gamma(), [1e-300, 1.0, 1e300, 0.0, -1.0, np.inf, np.nan],
         [True, True, True, False, False, False, False], "(0, inf)"),
        (F.InverseGaussian(), [1e-300, 1.0, 0.0, -2.0, np.inf],
         [True, True, False, False, False], "(0, inf)"),
    ],
    ids=["gaussian", "binomial", "poisson", "negative_binomial", "gamma", "inverse_gaussian"],
)
def test_domain_contains_and_describe(fam, values, expected, text):
    np.testing.assert_array_equal(fam.domain.contains(values), expected)
    assert fam.domain.contains(np.asarray(values).reshape(-1, 1)).shape == (len(values), 1)
    assert fam.domain.describe() == text
    assert fam.domain.integer == isinstance(fam, (F.Poisson, F.NegativeBinomial))


def test_domain_is_plain_data():
    d = F.Domain(0.0, 1.0, lower_open=True)
    assert d == F.Domain(0.0, 1.0, True, False, False)
    assert d._replace(integer=True).describe() == "integers in (0, 1]"
    np.testing.assert_array_equal(d.contains([0.0, 1.0]), [False, True])


@pytest.mark.parametrize(
    "fam, has_dispersion, dispersion_name",
    [
        (F.Gaussian(), True, "sigma"),
        (F.Binomial(), False, None),
        (F.Poisson(), False, None),
        (F.Gamma(), True, "shape"),
        (F.InverseGaussian(), True, "lam"),
        (F.NegativeBinomial(), False, "alpha"),
    ],
    ids=lambda v: v.name if isinstance(v, F.Family) else "",
)
def test_dispersion_declarations(fam, has_dispersion, dispersion_name):
    assert fam.has_dispersion is has_dispersion
    assert fam.dispersion_name == dispersion_name
    assert fam.scale(10.0, 5) == (2.0 if has_dispersion else 1.0)


@pytest.mark.parametrize(
    "fam, mu, expected",
    [
        (F.Gaussian(), [-3.0, 0.0, 2.0, np.nan], [True, True, True, False]),
        (F.Gaussian("log"), [-3.0, 0.0, 2.0], [False, False, True]),
        (F.Gaussian(L.Power(2)), [-3.0, 0.0, 2.0], [False, False, True]),
        (F.Binomial(), [0.0, 1e-9, 0.5, 1.0, 1.5], [False, True, True, False, False]),
        (F.Poisson("identity"), [-1.0, 0.0, 1e-9, np.inf], [False, False, True, False]),
        (F.Gamma(), [0.0, 3.0], [False, True]),
    ],
    ids=["gaussian-identity", "gaussian-log", "gaussian-power(2)", "binomial", "poisson-identity", "gamma"],
)
def test_valid_mu(fam, mu, expected):
    np.testing.assert_array_equal(fam.valid_mu(jnp.asarray(_pad(mu, N))), _pad(expected, N).astype(bool))


@pytest.mark.parametrize("fam, disp, y, mu", MATH_CASES)
def test_starting_mu_is_valid(fam, disp, y, mu):
    y = jnp.asarray(y)
    start = fam.starting_mu(y, jnp.ones_like(y))
    if isinstance(fam, F.Gaussian):
        return  # identity link: the start is y itself
    assert np.all(fam.valid_mu(start))


# ---------------------------------------------------------------------------------------------
# the rules each family owns (issue 10), for every registered family and allowed link
# ---------------------------------------------------------------------------------------------


def _means(fam_cls):
    return np.array([0.15, 0.5, 0.8]) if fam_cls is F.Binomial else np.array([0.4, 1.3, 3.0])


def _responses(fam_cls):
    if fam_cls is F.Binomial:
        return np.array([0.0, 0.4, 1.0]), np.array([3.0, 5.0, 2.0])  # proportions of trials
    if fam_cls.domain.integer:
        return np.array([0.0, 2.0, 5.0]), None
    return np.array([0.3, 1.1, 4.2]), None


@pytest.mark.parametrize("fam_cls, link", ED_FAMILY_LINK_CASES)
def test_loglike_eta_is_loglike_obs_at_the_mean(fam_cls, link):
    """One density: the form the model and LOO evaluate (canonical kernels included) is the
    MLE's loglike_obs at mu = link.inverse(eta)."""
    fam = fam_cls(link)
    y, trials = _responses(fam_cls)
    eta = link.link(jnp.asarray(_means(fam_cls)))
    phi = 0.7 if (fam.has_dispersion or fam.dispersion_name) else 1.0
    got = fam.loglike_eta(jnp.asarray(y), eta, phi, None if trials is None else jnp.asarray(trials))
    want = fam.loglike_obs(jnp.asarray(y), link.inverse(eta), phi, 1.0 if trials is None else trials)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, fam_cls", list(F.FAMILIES.items()), ids=list(F.FAMILIES))
def test_the_dispersion_has_one_conversion(name, fam_cls):
    fam = fam_cls()
    for v in (0.3, 1.0, 7.5):
        phi = fam.scale_from_dispersion(v)
        assert fam.dispersion_from_scale(phi) == pytest.approx(v, rel=1e-14)
    if fam.dispersion_param is None:
        assert fam.fixed_scale() == 1.0
        return
    # the variance the dispersion parameter v implies is phi * V(mu): checked by draws below;
    # here its Fisher variance on the log scale is positive and shrinks like 1 / n
    value = float(fam.crude_dispersion(2.0, 6.0))
    a, b = fam.log_dispersion_var(value, 100.0), fam.log_dispersion_var(value, 400.0)
    assert a > 0 and b == pytest.approx(a / 4, rel=1e-12)


@pytest.mark.parametrize("name, fam_cls", list(ED_FAMILIES.items()), ids=list(ED_FAMILIES))
def test_draws_have_the_variance_phi_v_mu(name, fam_cls):
    """Family.draw at dispersion parameter v: mean mu, variance scale_from_dispersion(v) V(mu)
    (per trial for Binomial). 40,000 draws: the mean within 5 SE (false failure < 1e-6 per
    entry), the variance within 6%."""
    fam = fam_cls()
    mu = _means(fam_cls)
    _, trials = _responses(fam_cls)
    phi = fam.scale_from_dispersion(2.0) if fam.dispersion_param else fam.fixed_scale()
    rng = np.random.default_rng(5)
    draws = np.array([fam.from_observed(fam.draw(rng, mu, phi, trials), trials)
                      for _ in range(40_000)])
    t = 1.0 if trials is None else trials
    var = np.asarray(fam.variance(jnp.asarray(mu), phi)) * (phi if fam.has_dispersion else 1.0) / t
    np.testing.assert_array_less(np.abs(draws.mean(0) - mu), 5 * np.sqrt(var / len(draws)))
    np.testing.assert_allclose(draws.var(0), var, rtol=0.06)


@pytest.mark.parametrize("name, fam_cls", list(F.FAMILIES.items()), ids=list(F.FAMILIES))
def test_observed_scale_round_trip_and_spec(name, fam_cls):
    fam = fam_cls()
    y, trials = _responses(fam_cls)
    np.testing.assert_allclose(fam.from_observed(fam.observed(y, trials), trials), y)
    assert F.from_spec(fam.spec()) == fam
    assert fam.ppc_kind in ("continuous", "count", "zero_count", "binomial", "ordinal")
