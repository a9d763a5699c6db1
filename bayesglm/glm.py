"""The public model object, :class:`GLM`."""

from __future__ import annotations

from .design import Design, make_design
from .families import Family, get_family
from .links import Link
from .mle import fit_mle as _fit_mle
from .results import MLEResults

__all__ = ["GLM"]


class GLM:
    """A generalized linear model: data, family, link and priors.

    The array interface mirrors statsmodels' ``sm.GLM``: no intercept is added to ``exog``.
    All input is validated here, before any JAX tracing; a fit never changes the model.

    Parameters
    ----------
    endog : array-like (n,) or (n, 2)
        Response. For Binomial: 0/1 (or booleans), success counts (or proportions) with
        ``trials``, or a two-column ``[successes, failures]`` array as in statsmodels.
    exog : array-like (n, p) or DataFrame
        Design matrix (add a constant column yourself for an intercept).
    family : Family or str, optional
        ``bg.families.Poisson()`` or ``"poisson"``; default Gaussian.
    link : Link or str, optional
        Overrides the family's link (default: the family's canonical link, as R).
    offset : array-like (n,), optional
        Added to the linear predictor.
    exposure : array-like (n,), optional
        Positive; ``log(exposure)`` is added to the linear predictor (log link only).
    weights : array-like (n,), optional
        Frequency weights (a row with weight k counts as k identical rows).
    trials : array-like (n,), optional
        Binomial number of trials per row.
    priors : str, Prior or dict
        Priors of the Bayesian fit (``"auto"``, ``"gelman2008"``, ``"flat"``, ...).
    names : sequence of str, optional
        Coefficient names (default: DataFrame columns, else ``x0, x1, ...``; a constant
        column is named ``const``).
    missing : {"raise", "drop"}
        What to do with rows holding NaN: raise an error naming them (default), or drop them
        (with a :class:`~bayesglm.MissingDataWarning` giving the count).

    Examples
    --------
    >>> import numpy as np, bayesglm as bg
    >>> X = np.column_stack([np.ones(9), np.arange(9.0)])
    >>> y = np.array([18, 17, 15, 20, 10, 20, 25, 13, 12])
    >>> mle = bg.GLM(y, X, family="poisson").fit_mle()
    >>> mle.params.round(4).tolist()
    [2.8936, -0.0081]
    """

    def __init__(
        self,
        endog,
        exog,
        family: Family | str | None = None,
        *,
        link: Link | str | None = None,
        offset=None,
        exposure=None,
        weights=None,
        trials=None,
        priors="auto",
        names=None,
        missing: str = "raise",
    ):
        self.family = get_family(family, link)
        self.design: Design = make_design(
            endog,
            exog,
            self.family,
            offset=offset,
            exposure=exposure,
            weights=weights,
            trials=trials,
            names=names,
            missing=missing,
        )
        self.priors = priors

    @property
    def link(self) -> Link:
        return self.family.link

    @property
    def names(self) -> tuple[str, ...]:
        return self.design.names

    @property
    def nobs(self) -> int:
        return self.design.nobs

    def fit_mle(self, *, maxiter: int = 100, tol: float = 1e-8, cov_type: str = "nonrobust") -> MLEResults:
        """Maximum likelihood by IRLS (jit-compiled JAX), as R's ``glm``.

        Parameters
        ----------
        maxiter : int
            Maximum number of IRLS iterations.
        tol : float
            Convergence when ``|dev - dev_old| / (|dev| + 0.1) < tol`` (R's rule).
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}
            Model-based covariance, or a heteroskedasticity-robust sandwich: HC0 plain, HC1 with
            the n / (n - p) correction, HC2/HC3 with each row's squared score divided by
            (1 - h) / (1 - h)^2, h the GLM hat value (as R's ``sandwich::vcovHC``).

        Raises
        ------
        RankDeficientError
            When columns of ``exog`` are linearly dependent; the message names them.

        Warns
        -----
        SeparationWarning, ConvergenceWarning
        """
        fit = _fit_mle(self.design, self.family, maxiter=maxiter, tol=tol, cov_type=cov_type)
        return MLEResults(self, self.design, self.family, fit)

    def __repr__(self):
        return (
            f"GLM({type(self.family).__name__}({type(self.family.link).__name__}), "
            f"nobs={self.nobs}, coefficients={list(self.names)})"
        )
