"""The generalized linear mixed model's maximum likelihood by the Laplace approximation, as
``lme4::glmer(nAGQ = 1)``.

With b = Lambda_theta u, u ~ N(0, I) (see :mod:`bayesglm.lmm` for Lambda), the marginal
likelihood of (theta, beta) is approximated at the conditional mode u* of u (Bates et al. 2015,
section 5; lme4's ``glmer`` vignette):

    -2 log L(theta, beta) ~= -2 sum_i log p(y_i | mu_i(u*)) + ||u*||^2 + log|L|^2,

L the Cholesky factor of Lambda'Z'W Z Lambda + I at u*, W the observed information -d^2 log
p(y_i | eta_i) / d eta_i^2 there: the Laplace approximation proper, as glmmTMB's. For a canonical
link (the binomial's logit, the Poisson's log: every lme4 case of the tests) that is the GLM
working weights, which glmer uses for every link. u* is found by penalised IRLS (Fisher scoring
with step halving on -2 log p(y | u) + ||u||^2). As glmer, in
two stages: first theta alone, with beta found with u by the same penalised IRLS (``nAGQ = 0``;
X joins the system unpenalised); then theta and beta jointly from there (``nAGQ = 1``), each
coordinate in units of its sd at the first stage's fit (second differences in theta, the joint
system's inverse in beta), which took VerbAgg's second stage from 89 quasi-Newton iterations to
15. The covariance of beta is the inverse of half the Hessian of the deviance in (theta, beta)
jointly (glmer's ``vcov`` with ``use.hessian = TRUE``), taken by central differences. The
searches are L-BFGS-B on numerical gradients (theta's diagonal bounded at 0).

The penalised system is formed densely for up to ``DENSE_EFFECTS_MAX`` group effects, else level
by level with a Schur complement for the smaller terms (:mod:`bayesglm.group_solve`): linear in
the levels of one term, or of a large term crossed with small ones.

The log density is the family's, normalising constants included (so that ``llf`` is lme4's
``logLik``): -2 log p(y | mu, phi) = -2 log p(y | mu = y, phi) + sum_i trials_i d(y_i, mu_i,
phi) / s(phi), d the family's unit deviance and s its ``deviance_divisor`` (phi for the
Gaussian, Gamma and inverse Gaussian families, 1 for the negative binomial, whose alpha enters
d). The saturated term is computed once per phi; each penalised IRLS step evaluates only the
unit deviances (no lgamma: measured 0.43 ms instead of 1.0 ms at n = 7,584).

A family with a dispersion (the Gaussian's sigma^2 under a link other than the identity, the
Gamma's and inverse Gaussian's phi, the negative binomial's alpha unless fixed) has it estimated
by maximum likelihood with the covariance parameters: log phi is one more coordinate of both
stages, as glmmTMB does (lme4's ``glmer`` instead evaluates such families at the plug-in
dev / n; its ``glmer.nb`` estimates theta = 1 / alpha but takes Fisher scoring's weights in
the Laplace determinant, not the observed information: a logLik 0.199 lower on grouseticks,
tests/reference/test_glmm_dispersion.py).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from ._progress import progress_bar
from ._x64 import float64
from ._xla import jit
from .group_design import GroupFactor, GroupRows
from .group_solve import modes_and_sds, system
from .lmm import BOUND_PROBES, off_the_bound, relative_factors, theta_layout

__all__ = ["GLMMFit", "fit_glmm", "crude_start", "laplace_deviance", "working_weights",
           "central_hessian"]


#: from this many rows x (fixed effects + covariance parameters) a fit shows its progress: each
#: deviance evaluation is then ~0.1-0.4 s (n = 1e6, 1e5 levels: 182 evaluations in ~70 s)
PROGRESS_WORK = 1_000_000


class GLMMFit(NamedTuple):
    """The numbers of a Laplace GLMM fit (NumPy)."""

    params: np.ndarray  # (p,) fixed effects
    cov_params: np.ndarray  # (p, p) from the joint Hessian in (theta, beta)
    theta: np.ndarray  # relative covariance factors, lme4's order (the sd's for scalar terms)
    covariances: tuple  # per term: T T' (no residual scale in a GLMM)
    modes: tuple  # per term: (L_j, q_j) conditional modes of b
    cond_sd: tuple  # per term: (L_j, q_j) conditional sds, sqrt(diag(Lambda H^-1 Lambda'))
    deviance: float  # the Laplace -2 log-likelihood
    llf: float
    n_params: int  # p + number of theta (+ 1 for an estimated dispersion; lme4's logLik df)
    converged: bool
    n_evals: int
    #: the dispersion on the variance scale (the family's ``fixed_scale()`` where not estimated)
    phi: float = 1.0  # NaN for a LikelihoodFamily (its parameters are ``disp``)
    phi_estimated: bool = False
    #: the family's coordinates at the estimate: (log phi,) where estimated, a LikelihoodFamily's
    #: extra parameters unconstrained (:mod:`bayesglm.transforms`), else empty
    disp: np.ndarray = np.zeros(0)
    #: the covariance of (disp, params) (the inverse of half the Laplace deviance's Hessian)
    cov_disp_beta: np.ndarray = np.zeros((0, 0))


@jit(static_argnames=("family",))
def _saturated(family, y, trials, phi, weights):
    """-2 sum_i weights_i log p(y_i | mu_i = y_i, phi)."""
    return -2.0 * jnp.sum(weights * family.loglike_obs(y, y, phi, trials))


@jit(static_argnames=("family",))
def _rows(family, y, eta, trials, phi, weights):
    """At eta: sum_i weights_i trials_i d(y_i, mu_i, phi) / s(phi) (-2 log p(y | mu, phi) less
    the saturated term), the working weights (the expected information in eta), the score in
    eta, and the observed information -d^2 log p / d eta^2, each row counted ``weights`` times
    (frequency weights; one compiled program per family and n)."""
    s = family.deviance_divisor(phi)
    t = weights * trials

    def score(e):
        mu = family.link.inverse(e)
        return t * (y - mu) * family.link.inverse_deriv(e) / (family.variance(mu, phi) * s)

    mu = family.link.inverse(eta)
    dev = jnp.sum(t * family.unit_deviance(y, mu, phi)) / s
    d = family.link.inverse_deriv(eta)
    var = family.variance(mu, phi) * s
    sc, dsc = jax.jvp(score, (eta,), (jnp.ones_like(eta),))  # row by row: the diagonal
    return dev, t * d**2 / var, sc, -dsc


@jit(static_argnames=("family",))
def _exact_rows(family, y, eta, u, trials, weights, aux):
    """At eta, for a :class:`~bayesglm.families.LikelihoodFamily` with its extra parameters at
    the unconstrained ``u``: -2 sum_i weights_i log p(y_i | eta_i, extra), the observed
    information clipped at 0 (penalised IRLS's weights: with the penalty's identity the system
    stays positive definite where a row's log density is convex in eta, as a zero-inflated
    zero's), the score in eta, and the observed information -d^2 log p / d eta^2 itself (the
    Laplace determinant's); rows are independent, so the diagonal is one forward derivative of
    the gradient."""
    from .likelihood_mle import unpack

    extra = unpack(family, u, jnp)

    def total(e):
        return jnp.sum(weights * family.loglike(y, e, extra, trials, aux))

    score, dscore = jax.jvp(jax.grad(total), (eta,), (jnp.ones_like(eta),))
    return -2.0 * total(eta), jnp.maximum(-dscore, 0.0), score, -dscore


def working_weights(family, y, eta, trials=None, phi=None, weights=None, *, extra_u=None,
                    aux=None) -> np.ndarray:
    """The GLM working weights weights trials mu'(eta)^2 / (V(mu) s(phi)) at ``eta`` (host
    array; ``phi`` default the family's ``fixed_scale()``; ``weights``: frequency weights).
    A :class:`~bayesglm.families.LikelihoodFamily`'s are its observed information in eta,
    clipped at 0 (penalised IRLS's), at its extra parameters' unconstrained ``extra_u``, with
    its extra design matrices ``aux``."""
    t = np.ones(len(eta)) if trials is None else np.asarray(trials, dtype=float)
    fw = np.ones(len(eta)) if weights is None else np.asarray(weights, dtype=float)
    if getattr(family, "exact_likelihood", False):
        auxj = None if aux is None else {k: np.asarray(v, dtype=float) for k, v in aux.items()}
        return np.asarray(_exact_rows(family, np.asarray(y, dtype=float),
                                      np.asarray(eta, dtype=float),
                                      np.asarray(extra_u, dtype=float), t, fw, auxj)[1])
    phi = family.fixed_scale() if phi is None else float(phi)
    return np.asarray(_rows(family, np.asarray(y, dtype=float), np.asarray(eta, dtype=float),
                            t, phi, fw)[1])


def _crude_phi(family, y) -> float:
    """A start for phi from the response's mean and variance (the family's crude dispersion)."""
    y = np.asarray(y, dtype=float)
    return float(family.scale_from_dispersion(family.crude_dispersion(float(y.mean()),
                                                                      float(y.var()))))


class _Problem:
    """The data and the family (the family's JAX functions, compiled, on host arrays).

    The family's own parameters beside theta and beta are ``disp``, the coordinates of
    :meth:`set_disp`: log phi for an exponential-dispersion family with an estimated
    dispersion (none where it is fixed), the extra parameters' unconstrained values for a
    :class:`~bayesglm.families.LikelihoodFamily` (:mod:`bayesglm.transforms`)."""

    def __init__(self, X, y, terms, family, trials, offset, dense=None, weights=None, aux=None):
        self.X, self.y, self.terms, self.family = X, y, terms, family
        self.n, self.p = X.shape
        self.trials = np.ones(self.n) if trials is None else np.asarray(trials, dtype=float)
        self.weights = np.ones(self.n) if weights is None else np.asarray(weights, dtype=float)
        self.offset = np.zeros(self.n) if offset is None else np.asarray(offset, dtype=float)
        self.aux = None if aux is None else {k: np.asarray(v, dtype=float)
                                             for k, v in aux.items()}
        self.dense = dense  # None: dense while small (group_solve.DENSE_EFFECTS_MAX)
        self.q = sum(f.n_levels * len(f.terms) for f, _ in terms)
        self.u = np.zeros(self.q)  # warm start of the conditional modes
        self.beta = np.zeros(self.p)  # warm start of the first stage's fixed effects
        self.bar = progress_bar(False, None, "")  # counts the deviance evaluations
        self.exact = bool(getattr(family, "exact_likelihood", False))
        self.phi, self.saturated, self.extra_u = None, None, None
        if self.exact:  # the density is the family's log-likelihood itself: no saturated part
            self.phi, self.saturated = math.nan, 0.0
            self.extra_u = np.zeros(sum(q.size for q in family.extra_params()))
        else:
            self.set_phi(family.fixed_scale())

    @property
    def n_disp(self) -> int:
        """The number of the family's coordinates (see the class)."""
        if self.exact:
            return len(self.extra_u)
        return 1 if self.family.dispersion_param is not None else 0

    def get_disp(self) -> np.ndarray:
        if self.exact:
            return self.extra_u.copy()
        return np.array([math.log(self.phi)] * self.n_disp)

    def set_disp(self, disp) -> None:
        """Evaluate the likelihood at the family's coordinates ``disp`` (None: unchanged)."""
        if disp is None or not len(disp):
            return
        if self.exact:
            self.extra_u = np.asarray(disp, dtype=float).copy()
        else:
            self.set_phi(math.exp(disp[0]))

    def set_phi(self, phi: float) -> None:
        """Evaluate the likelihood at dispersion ``phi`` (its saturated term computed once)."""
        phi = float(phi)
        if phi != self.phi:
            self.phi = phi
            self.saturated = float(_saturated(self.family, self.y, self.trials, phi,
                                              self.weights))

    def at(self, eta):
        """(-2 log p(y | eta, phi), working weights, score, observed information) as host
        arrays."""
        if self.exact:
            dev, w, score, w_obs = _exact_rows(self.family, self.y, eta, self.extra_u,
                                               self.trials, self.weights, self.aux)
        else:
            dev, w, score, w_obs = _rows(self.family, self.y, eta, self.trials, self.phi,
                                         self.weights)
        return self.saturated + float(dev), np.asarray(w), np.asarray(score), w_obs

    def pirls(self, sysm, eta0, u, maxiter=200, tol=1e-12, step_tol=1e-9):
        """(u*, objective, factor of M'W_obs M + P) at the conditional mode (u: the system's
        coefficients, P its penalty: the group effects', and the fixed effects' if it has X;
        W_obs the observed information there).

        Converged when an accepted step changes the penalised deviance by less than ``tol``
        relative and moves no coefficient by more than ``step_tol``: the Laplace value's
        determinant moves with u to first order (the objective only to second), and Fisher
        scoring under a non-canonical link converges linearly (the inverse Gaussian's log
        link: by ~0.5 per step), so the objective's change alone stopped with u 1e-5 off and
        the Laplace value 1e-5 noisy, too much for the outer search's differences.
        """
        pen = sysm.penalty
        dev, w, score, w_obs = self.at(eta0 + sysm.matvec(u))
        if not np.isfinite(dev):
            u = np.zeros_like(u)
            dev, w, score, w_obs = self.at(eta0)
        obj = dev + float(u @ (pen * u))
        if not (np.isfinite(obj) and np.all(np.isfinite(w))):  # parameters the data exclude
            return u, np.inf, None
        for _ in range(maxiter):
            step = sysm.factor(w).solve(sysm.rmatvec(score) - pen * u)
            t, new = 1.0, None
            for _ in range(30):  # step halving until the penalised deviance does not rise
                cand = u + t * step
                d2, w2, s2, o2 = self.at(eta0 + sysm.matvec(cand))
                o = d2 + float(cand @ (pen * cand))
                if np.isfinite(o) and o <= obj + 1e-12 * abs(obj):
                    new = (cand, o, w2, s2, o2)
                    break
                t /= 2
            if new is None:
                break
            u, obj_new, w, score, w_obs = new
            done = (abs(obj - obj_new) < tol * (abs(obj_new) + 1.0)
                    and t * np.max(np.abs(step), initial=0.0) < step_tol)
            obj = obj_new
            if done:
                break
        # the Laplace determinant: the observed information at the mode (the working weights
        # themselves for a canonical link)
        w_obs = np.asarray(w_obs)
        try:
            if np.all(np.isfinite(w_obs)):
                return u, obj, sysm.factor(w_obs)
        except np.linalg.LinAlgError:  # not at a maximum (far from the optimum)
            pass
        return u, np.inf, None

    def joint(self, theta, disp=None):
        """glmer's first stage (``nAGQ = 0``): the Laplace deviance with beta and u at their joint
        penalised mode; (deviance, beta, the joint system's factor). ``disp``: the family's
        coordinates (:meth:`set_disp`)."""
        self.set_disp(disp)
        if not np.isfinite(self.saturated):
            return np.inf, self.beta, None
        Ts = relative_factors(self.terms, theta)
        sysm = system(self.terms, Ts, self.dense, fixed=self.X)
        v0 = np.concatenate([self.u, self.beta])
        v, obj, F = self.pirls(sysm, self.offset, v0)
        self.bar.update(1)
        if F is None:
            return np.inf, v[self.q:], None
        if np.all(np.isfinite(v)):
            self.u, self.beta = v[:self.q], v[self.q:]
        return obj + F.logdet(), v[self.q:], F

    def theta_sd(self, stage1, t, f0, h=1e-3):
        """sqrt(2 / f'') of the first stage's deviance ``stage1`` in each of its coordinates
        ``t`` (theta, then the family's coordinates: forward second differences, a theta may
        sit on its bound 0), 1 where it is not convex."""
        out = np.ones(len(t))
        u, beta, disp = self.u.copy(), self.beta.copy(), self.get_disp()
        for k in range(len(t)):
            e = np.zeros(len(t))
            e[k] = h
            d2 = (stage1(t + 2 * e) - 2 * stage1(t + e) + f0) / h**2
            if np.isfinite(d2) and d2 > 0:
                out[k] = np.sqrt(2.0 / d2)
        self.u, self.beta = u, beta
        self.set_disp(disp)
        return out

    def beta_sd(self, F):
        """The fixed effects' sds given theta: sqrt of the diagonal of the beta block of
        (M'WM + P)^-1, ``F`` the joint system's factor at the first stage's mode."""
        E = np.zeros((self.q + self.p, self.p))
        E[self.q:] = np.eye(self.p)
        return np.sqrt(np.diag(F.solve(E)[self.q:]))

    def laplace(self, theta, beta, keep=True, disp=None):
        self.set_disp(disp)
        Ts = relative_factors(self.terms, theta)
        if not np.isfinite(self.saturated):
            return np.inf, self.u, None, Ts
        sysm = system(self.terms, Ts, self.dense)
        u, obj, F = self.pirls(sysm, self.X @ beta + self.offset, self.u.copy())
        self.bar.update(1)
        if F is None:
            return np.inf, u, None, Ts
        if keep and np.all(np.isfinite(u)):
            self.u = u
        return obj + F.logdet(), u, F, Ts


def _minimize(fun, x0, **options):
    """scipy's minimize, quiet about its differences of two infinite values: the deviance is
    inf where the parameters leave the data no mode (the penalised IRLS fails), the
    search steps back from there, and its forward-difference gradient at such a point is
    inf - inf (NumPy's RuntimeWarning said so to the user, about nothing they can act on)."""
    with np.errstate(invalid="ignore"):
        return optimize.minimize(fun, x0, **options)


def central_derivatives(fun, x, steps):
    """(value, gradient, Hessian) of a scalar function by central differences; ``steps``: one
    step per coordinate (the gradient comes from the Hessian's diagonal evaluations)."""
    k = len(x)
    steps = np.broadcast_to(np.asarray(steps, dtype=float), (k,))
    H, g = np.zeros((k, k)), np.zeros(k)
    f0 = fun(x)
    E = np.diag(steps)
    for i in range(k):
        up, down = fun(x + E[i]), fun(x - E[i])
        g[i] = (up - down) / (2 * steps[i])
        H[i, i] = (up - 2 * f0 + down) / steps[i] ** 2
        for j in range(i):
            H[i, j] = H[j, i] = (fun(x + E[i] + E[j]) - fun(x + E[i] - E[j])
                                 - fun(x - E[i] + E[j]) + fun(x - E[i] - E[j])) / (
                4 * steps[i] * steps[j])
    return f0, g, H


def central_hessian(fun, x, steps) -> np.ndarray:
    """Central-difference Hessian of a scalar function; ``steps``: one step per coordinate."""
    return central_derivatives(fun, x, steps)[2]


def _newton_polish(fun, x, steps, lower, max_steps: int = 5):
    """(x, Hessian there, at the top): Newton steps on ``fun`` (with halving, within the
    ``lower`` bounds, None for none) while the decrement is above :data:`NEWTON_DECREMENT_MIN`,
    derivatives by central differences (the last ones are the Hessian returned); "at the top":
    that Hessian is positive definite and the decrement there below :data:`AT_TOP_DECREMENT`."""
    f0, g, H = central_derivatives(fun, x, steps)
    for _ in range(max_steps):
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not -g @ step > NEWTON_DECREMENT_MIN:  # not a descent direction, or close enough
            break
        for t in 0.5 ** np.arange(10):
            cand = x + t * step
            if all(lo is None or c >= lo for c, lo in zip(cand, lower)) and fun(cand) < f0:
                break
        else:
            break
        x = cand
        f0, g, H = central_derivatives(fun, x, steps)
    try:
        np.linalg.cholesky(H)
        at_top = bool(g @ np.linalg.solve(H, g) < AT_TOP_DECREMENT)
    except np.linalg.LinAlgError:
        at_top = False
    return x, H, at_top


#: the second stage's end is polished by Newton steps on the central differences taken for the
#: standard errors while the Newton decrement g'H^-1 g (deviance units) is above this: L-BFGS-B
#: on forward differences stops where their error (~1e-10 / 1e-8) is the gradient's size,
#: which on an inverse Gaussian model with a log link left the logLik 1e-3 short
NEWTON_DECREMENT_MIN = 1e-8
#: the fit has converged where the second stage's optimiser says so, or where the polished
#: point is a strict local minimum of the Laplace deviance to within this Newton decrement
#: (deviance units: 1e-6 is 1e-3 of a standard error in every direction). L-BFGS-B's line search
#: at ftol 1e-14 can end "abnormally" on rounding at the top itself (glmmTMB's gamma_slopes
#: case on one machine of two, the estimates equal to 1e-5 SE)
AT_TOP_DECREMENT = 1e-6


def _steps(x, scale, lower):
    """The central differences' steps: 1e-4 of each coordinate, at least 1e-3 of its scale
    (its conditional sd from the first stage), and below half the distance to a bound. A step
    of 1e-4 |x| alone was 1e-6 for a fixed effect near 0 (0.016, SE 0.31), where the second
    differences' rounding moved its SE by 3e-4 between two fits of the same likelihood."""
    h = np.maximum(1e-4 * np.abs(x), 1e-3 * np.asarray(scale))
    for k, lo in enumerate(lower):
        if lo is not None:
            h[k] = min(h[k], max(0.5 * (x[k] - lo), 1e-4 * max(abs(x[k]), 1e-2)))
    return h


def crude_start(X, y, family, trials=None, offset=None) -> np.ndarray:
    """Fixed effects to start the first stage from: least squares of link(mustart) on X (R's
    ``family$initialize``), with no GLM fit (nothing to compile before the mixed model's own)."""
    t = np.ones(len(y)) if trials is None else np.asarray(trials, dtype=float)
    eta = np.asarray(family.link.link(family.starting_mu(jnp.asarray(y), jnp.asarray(t))))
    if offset is not None:
        eta = eta - np.asarray(offset, dtype=float)
    return np.linalg.lstsq(np.asarray(X, dtype=float), eta, rcond=None)[0]


@float64
def fit_glmm(X, y, terms: list[tuple[GroupFactor, GroupRows]], family, *, beta_start=None,
             trials=None, offset=None, maxiter: int = 500, dense: bool | None = None,
             progress: bool | None = None, weights=None, aux=None,
             disp_start=None) -> GLMMFit:
    """Laplace ML of a GLMM. ``y`` on the mean's scale (Binomial: proportions of ``trials``);
    ``beta_start``: the fixed effects to start from (default :func:`crude_start`; the first
    stage finds them with the group effects). ``progress``: a bar counting the deviance
    evaluations of each stage (default: shown from :data:`PROGRESS_WORK` rows x parameters).
    ``dense``: the penalised system formed densely or by levels (:mod:`bayesglm.group_solve`;
    default: dense up to ``DENSE_EFFECTS_MAX`` group effects). A family with a dispersion
    (``family.dispersion_param``) has log phi estimated beside theta; a
    :class:`~bayesglm.families.LikelihoodFamily` its extra parameters, in their unconstrained
    coordinates (``disp_start``: where they start, default 0), the density then its exact
    log-likelihood (``aux``: its extra design matrices, as a zero model's). ``weights``:
    frequency weights (each row's log density counted that many times)."""
    X = np.asarray(X, dtype=float)
    prob = _Problem(X, np.asarray(y, dtype=float), terms, family, trials, offset, dense, weights,
                    aux)
    layout = [theta_layout(f) for f, _ in terms]
    theta0 = np.array([1.0 if i == j else 0.0 for lay in layout for i, j in lay])
    nt = len(theta0)
    nd = prob.n_disp  # log phi (where estimated; else phi is the fixed_scale()), or extra u
    # the coordinates: theta, then the family's (log phi, or the extra parameters), then beta
    bounds = [(0.0, None) if i == j else (None, None) for lay in layout for i, j in lay]
    bounds += [(None, None)] * (nd + prob.p)
    if prob.exact:
        d0 = np.zeros(nd) if disp_start is None else np.asarray(disp_start, dtype=float)
    else:
        d0 = [math.log(_crude_phi(family, prob.y))] * nd
    t0 = np.concatenate([theta0, d0])

    def disp_of(x):
        return x[nt:nt + nd]

    # first stage (glmer's nAGQ = 0): theta (and the family's coordinates) alone, beta in the
    # penalised IRLS with u
    show = prob.n * (prob.p + nt) >= PROGRESS_WORK if progress is None else bool(progress)
    prob.bar = progress_bar(show, None, "glmer, stage 1 (theta)", unit="deviance")
    if beta_start is None:
        beta_start = crude_start(X, prob.y, family, trials, offset)
    prob.beta = np.asarray(beta_start, dtype=float).copy()

    def stage1(t):
        return prob.joint(t[:nt], disp_of(t))[0]

    opts1 = {"ftol": 1e-10, "maxiter": maxiter}
    res1 = _minimize(stage1, t0, method="L-BFGS-B", bounds=bounds[:nt + nd],
                             options=opts1)
    restart = off_the_bound(stage1, res1.x, res1.fun, bounds[:nt])
    if restart is not None:
        nfev = res1.nfev
        res1 = _minimize(stage1, restart, method="L-BFGS-B", bounds=bounds[:nt + nd],
                                 options=opts1)
        res1.nfev += nfev + BOUND_PROBES.size
    _, beta1, F1 = prob.joint(res1.x[:nt], disp_of(res1.x))
    # second stage: (theta, the family's coordinates, beta) jointly from there, beta in units
    # of its conditional sd
    x0 = np.concatenate([res1.x, beta1])
    scale = np.concatenate([prob.theta_sd(stage1, res1.x, res1.fun), prob.beta_sd(F1)])
    prob.bar.set_description("glmer, stage 2 (theta, beta)")

    def laplace_at(x, keep=True):
        return prob.laplace(x[:nt], x[nt + nd:], keep=keep, disp=disp_of(x))

    def dev(z):
        return laplace_at(x0 + scale * z)[0]

    zb = [(None if lo is None else (lo - a) / c, None if hi is None else (hi - a) / c)
          for (lo, hi), a, c in zip(bounds, x0, scale)]
    res = _minimize(dev, np.zeros_like(x0), method="L-BFGS-B", bounds=zb,
                            options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": maxiter,
                                     "maxfun": 50 * maxiter})
    x = x0 + scale * res.x
    laplace_at(x)  # the modes there: the start of every evaluation below
    # the covariance of beta: (H/2)^-1's beta block, H the deviance's Hessian in (theta, the
    # family's coordinates, beta); a theta on its bound (a singular fit) is held there (the
    # beta block conditional on it)
    free = [k for k in range(nt) if not (bounds[k][0] == 0.0 and x[k] <= 1e-8)]
    free += list(range(nt, nt + nd))
    idx = free + list(range(nt + nd, nt + nd + prob.p))

    def dev_sub(z):
        xx = x.copy()
        xx[idx] = z
        return laplace_at(xx, keep=False)[0]

    prob.bar.set_description("glmer, Hessian (standard errors)")
    lower = [bounds[k][0] for k in idx]
    x[idx], H, at_top = _newton_polish(dev_sub, x[idx], _steps(x[idx], scale[idx], lower), lower)
    theta, beta = x[:nt], x[nt + nd:]
    deviance, u, F, Ts = laplace_at(x)
    phi = prob.phi
    prob.bar.close()
    cov_all = np.linalg.inv(H / 2.0)
    cov = cov_all[len(free):, len(free):]
    n_theta_free = len(free) - nd
    cov_db = cov_all[n_theta_free:, n_theta_free:]
    modes, cond_sd = modes_and_sds(terms, Ts, u, F)
    return GLMMFit(
        params=beta, cov_params=(cov + cov.T) / 2, theta=theta,
        covariances=tuple(T @ T.T for T in Ts), modes=modes, cond_sd=cond_sd,
        deviance=float(deviance), llf=-float(deviance) / 2.0, n_params=prob.p + nt + nd,
        converged=bool(res.success) or at_top, n_evals=int(res1.nfev + res.nfev), phi=float(phi),
        phi_estimated=bool(nd) and not prob.exact, disp=np.asarray(x[nt:nt + nd]),
        cov_disp_beta=(cov_db + cov_db.T) / 2,
    )


@float64
def laplace_deviance(X, y, terms, family, *, trials=None, offset=None, weights=None,
                     aux=None):
    """``f(theta, beta, phi=None, extra_u=None)``: the Laplace approximation of -2 log p(y |
    theta, beta, phi) (lme4's deviance, the conditional modes found afresh at each call by
    penalised IRLS; phi default the family's ``fixed_scale()``); a LikelihoodFamily's at its
    extra parameters' unconstrained ``extra_u`` instead of phi (``aux``: its extra design
    matrices)."""
    prob = _Problem(np.asarray(X, dtype=float), np.asarray(y, dtype=float), terms, family,
                    trials, offset, weights=weights, aux=aux)

    @float64  # called later, maybe outside the float64 context it was made in
    def f(theta, beta, phi=None, extra_u=None):
        if prob.exact:
            prob.set_disp(extra_u)
        else:
            prob.set_phi(family.fixed_scale() if phi is None else phi)
        return prob.laplace(np.asarray(theta, dtype=float), np.asarray(beta, dtype=float))[0]

    return f
