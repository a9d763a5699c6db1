"""Results of the Bayesian fit: ``BayesResults``, the posterior beside the classical fit."""

from __future__ import annotations

import json
import warnings

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ._warnings import SamplingWarning
from .convert import add_group
from .design import check_vector, make_exog
from .families import Family, get_family
from .links import Power, get_link
from .model import likelihood

__all__ = ["BayesResults", "load", "compare", "check_draws"]

_KINDS = ("mean", "response", "linear")


def _hdi_cols(hdi_prob: float) -> tuple[str, str]:
    lo = 100 * (1 - hdi_prob) / 2
    return f"hdi_{lo:g}%", f"hdi_{100 - lo:g}%"


def check_draws(idata, max_tree_depth: int, stacklevel: int = 3) -> list[str]:
    """The package's sampling warnings, each with the advice that fixes it. Returns the messages."""
    messages = []
    ss = idata.sample_stats
    n_div = int(ss["diverging"].sum())
    total = ss["diverging"].size
    if n_div:
        messages.append(
            f"{n_div} of {total} draws ended in a divergence: the sampler could not follow the "
            "posterior's geometry, and the draws may be biased. Raise target_accept (e.g. "
            "fit(target_accept=0.95)), use stronger priors, or rescale the predictors."
        )
    s = az.summary(idata, var_names=[v for v in idata.posterior.data_vars], kind="diagnostics")
    worst = s["r_hat"].max()
    if np.isfinite(worst) and worst > 1.01:
        messages.append(
            f"R-hat is {worst:.3f} > 1.01 (for {s['r_hat'].idxmax()}): the chains disagree. "
            "Run more draws and warmup (fit(draws=..., warmup=...)), and look at plot_trace."
        )
    n_chains = idata.posterior.sizes["chain"]
    low = min(float(s["ess_bulk"].min()), float(s["ess_tail"].min()))
    if low < 100 * n_chains:
        which = s["ess_bulk"].idxmin() if s["ess_bulk"].min() <= s["ess_tail"].min() else s["ess_tail"].idxmin()
        messages.append(
            f"the effective sample size is low ({low:.0f} < {100 * n_chains}, for {which}): "
            "Monte Carlo errors are large. Increase draws (fit(draws=...))."
        )
    hits = int((ss["tree_depth"] >= max_tree_depth).sum())
    if hits:
        messages.append(
            f"{hits} of {total} draws hit the maximum tree depth ({max_tree_depth}): sampling "
            "was cut short. Raise max_tree_depth, or reparameterise / rescale the predictors."
        )
    for m in messages:
        warnings.warn(m, SamplingWarning, stacklevel=stacklevel)
    return messages


class BayesResults:
    """The posterior of a GLM, next to its classical fit.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups posterior (``beta`` on the ``coef`` coordinate, and the dispersion), sample_stats,
        log_likelihood, observed_data, constant_data; posterior_predictive on request.
    mle : MLEResults or None
        The classical fit (None where the MLE does not exist).
    start : str
        Where NUTS started: ``"mle"`` or ``"map"``.
    """

    #: the model's formula (``bayesglm.formula.FormulaSpec``) when it was made by
    #: ``GLM.from_formula``: ``predict(new_df)`` re-applies it; None for the array interface
    formula_spec = None

    def __init__(self, idata, *, family: Family, names, mle=None, map_fit=None, start="mle",
                 design=None, kwargs=None, spec: dict | None = None, config=None):
        self.idata = idata
        self.family = family
        self.names = list(names)
        self.mle = mle
        self.map = map_fit
        self.start = start
        self._design = design
        self._kwargs = kwargs
        self._config = config
        self._spec = spec or {}

    # -- draws ------------------------------------------------------------------------------
    @property
    def dispersion_name(self) -> str | None:
        name = self.family.dispersion_name
        return name if name in self.idata.posterior else None

    def _beta(self) -> np.ndarray:
        """(chains * draws, p)."""
        b = self.idata.posterior["beta"].to_numpy()
        return b.reshape(-1, b.shape[-1])

    def _disp(self):
        name = self.dispersion_name
        return None if name is None else self.idata.posterior[name].to_numpy().reshape(-1)

    # -- tables -----------------------------------------------------------------------------
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """One table: MLE, its standard error, and the posterior (ArviZ) side by side."""
        if not 0 < hdi_prob < 1:
            raise ValueError(f"hdi_prob must lie in (0, 1), got {hdi_prob!r}")
        var_names = ["beta"] + ([self.dispersion_name] if self.dispersion_name else [])
        s = az.summary(self.idata, var_names=var_names, hdi_prob=hdi_prob)
        s.index = [i[5:-1] if i.startswith("beta[") else i for i in s.index]
        mle = pd.Series(np.nan, index=s.index)
        mle_se = pd.Series(np.nan, index=s.index)
        if self.mle is not None:
            mle[self.names] = self.mle.params.to_numpy()
            mle_se[self.names] = self.mle.bse.to_numpy()
            disp = self._mle_dispersion()
            if disp is not None and self.dispersion_name:
                mle[self.dispersion_name], mle_se[self.dispersion_name] = disp
        lo, hi = _hdi_cols(hdi_prob)
        out = pd.DataFrame({"mle": mle, "mle_se": mle_se})
        cols = ["mean", "sd", lo, hi, "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
        table = pd.concat([out, s[cols]], axis=1)
        if self.response_note():
            table.attrs["note"] = self.response_note()
        return table

    def response_note(self) -> str | None:
        """For a two-level string/categorical binomial response: which level is the success."""
        fs = self.formula_spec
        return None if fs is None else fs.response_note()

    def _mle_dispersion(self):
        """(estimate, se) of the dispersion parameter on the posterior's scale, from the MLE."""
        m = self.mle
        name = self.dispersion_name
        if m is None or name is None:
            return None
        # the (weighted) number of observations: df_resid + the number of coefficients
        n = m.df_resid + len(m.params) if hasattr(m, "df_resid") else m.nobs
        if name == "sigma":
            v = np.sqrt(m.scale)
            return v, v / np.sqrt(2 * n)
        if name == "alpha":
            return m.alpha, m.alpha_se
        v = 1.0 / m.scale  # shape (Gamma) or lam (inverse Gaussian): the moment estimate
        return v, np.nan

    def diagnostics(self) -> pd.DataFrame:
        """Sampler diagnostics per chain and overall, and the package's warnings as a list."""
        ss = self.idata.sample_stats
        per_chain = pd.DataFrame(
            {
                "divergences": ss["diverging"].sum("draw").to_numpy(),
                "max_tree_depth_hits": (ss["tree_depth"] >= (self._config.max_tree_depth if self._config else 10)).sum("draw").to_numpy(),
                "mean_tree_depth": ss["tree_depth"].mean("draw").to_numpy(),
                "step_size": ss["step_size"].mean("draw").to_numpy(),
                "gradient_evals": ss["n_steps"].sum("draw").to_numpy(),
                "mean_accept": ss["acceptance_rate"].mean("draw").to_numpy(),
                "bfmi": az.bfmi(self.idata),
            },
            index=pd.Index(range(ss.sizes["chain"]), name="chain"),
        )
        return per_chain

    # -- prediction -------------------------------------------------------------------------
    def _new_eta(self, data, offset, exposure):
        if data is None:
            if self._design is None:
                raise ValueError("pass the rows to predict (this fit was loaded without its data)")
            X = self._design.X
            off = self._design.total_offset
            index = self._design.row_index
        else:
            fs = self.formula_spec
            if fs is not None and fs.uses(data, self.names):  # raw columns: re-apply the formula
                X, index = fs.design_matrix(data, what="data")
                offset = fs.vector(offset, data, "offset")
                exposure = fs.vector(exposure, data, "exposure")
            else:
                X = make_exog(data, tuple(self.names), what="data")
                index = data.index if isinstance(data, (pd.DataFrame, pd.Series)) else None
            m = X.shape[0]
            off = np.zeros(m)
            if self._spec.get("has_offset") and offset is None:
                raise ValueError("the model was fitted with an offset: pass offset= for the new rows")
            if self._spec.get("has_exposure") and exposure is None:
                raise ValueError("the model was fitted with an exposure: pass exposure= for the new rows")
            if offset is not None:
                off = off + check_vector(offset, m, "offset")
            if exposure is not None:
                off = off + np.log(check_vector(exposure, m, "exposure", positive=True))
        eta = self._beta() @ X.T
        if off is not None:
            eta = eta + off[None, :]
        return eta, index

    def predict(self, data=None, *, kind: str = "mean", hdi_prob: float = 0.94, offset=None,
                exposure=None, trials=None, seed: int = 0) -> pd.DataFrame:
        """Posterior predictions for new rows (or the fitted ones).

        ``kind="mean"``: the posterior of the mean mu; ``"linear"``: of eta; ``"response"``:
        posterior predictive draws of y (Binomial: as proportions of ``trials``, default 1).
        Returns a DataFrame with ``mean``, ``sd`` and the HDI bounds.

        For a model made by ``from_formula``, ``data`` may be a DataFrame of raw columns: the
        formula is re-applied (an unseen category level is an error), and ``offset``/
        ``exposure``/``trials`` may name its columns (by default, the columns the model was
        fitted with, when ``data`` has them).
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {', '.join(_KINDS)}; got {kind!r}")
        if data is not None and self.formula_spec is not None:
            trials = self.formula_spec.vector(trials, data, "trials")
        eta, index = self._new_eta(data, offset, exposure)
        if kind == "linear":
            draws = eta
        else:
            mu = np.asarray(self.family.link.inverse(jnp.asarray(eta)))
            draws = mu
            if kind == "response":
                n = eta.shape[1]
                t = None
                if self.family.name == "binomial":
                    t = np.ones(n) if trials is None else check_vector(trials, n, "trials", positive=True)
                disp = self._disp()
                d = None if disp is None else jnp.asarray(disp)[:, None]
                dist_ = likelihood(self.family, jnp.asarray(eta), d, None if t is None else jnp.asarray(t))
                draws = np.asarray(dist_.sample(jax.random.PRNGKey(seed)), dtype=float)
                if t is not None:
                    draws = draws / t[None, :]
        lo, hi = _hdi_cols(hdi_prob)
        hdi = az.hdi(draws[None, ...], hdi_prob=hdi_prob)  # (n, 2)
        return pd.DataFrame(
            {"mean": draws.mean(0), "sd": draws.std(0, ddof=1), lo: hdi[:, 0], hi: hdi[:, 1]},
            index=index,
        )

    def posterior_predictive(self, seed: int = 0):
        """Draw y_rep for the observed rows, store it as the posterior_predictive group."""
        if self._kwargs is None:
            raise ValueError("this fit was loaded without its data: posterior_predictive needs them")
        k = self._kwargs
        b = self.idata.posterior["beta"].to_numpy()
        eta = jnp.einsum("cdp,np->cdn", jnp.asarray(b), k["X"])
        if k["offset"] is not None:
            eta = eta + k["offset"]
        disp = None
        if self.dispersion_name:
            disp = jnp.asarray(self.idata.posterior[self.dispersion_name].to_numpy())[..., None]
        d = likelihood(self.family, eta, disp, k["trials"])
        y_rep = np.asarray(d.sample(jax.random.PRNGKey(seed)), dtype=float)
        add_group(self.idata, "posterior_predictive", y_rep, self.idata.observed_data["obs"].to_numpy())
        return self.idata.posterior_predictive

    # -- model comparison -------------------------------------------------------------------
    def _ensure_loglik(self) -> None:
        """Add the pointwise log-likelihood group when the fit left it out (large fits)."""
        if "log_likelihood" in self.idata.groups():
            return
        if self._kwargs is None:
            raise ValueError("this fit has no pointwise log-likelihood and no data to compute it")
        from .convert import add_group
        from .posterior import pointwise_loglik

        post = self.idata.posterior
        disp = post[self.dispersion_name].to_numpy() if self.dispersion_name else None
        ll = pointwise_loglik(self.family, self._kwargs, post["beta"].to_numpy(), disp)
        add_group(self.idata, "log_likelihood", ll, self.idata.observed_data["obs"].to_numpy())

    def loo(self, **kwargs):
        """PSIS-LOO (ArviZ) from the pointwise log-likelihood."""
        self._ensure_loglik()
        return az.loo(self.idata, **kwargs)

    def waic(self, **kwargs):
        """WAIC (ArviZ) from the pointwise log-likelihood."""
        self._ensure_loglik()
        return az.waic(self.idata, **kwargs)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the draws and the model spec (netCDF), enough to predict after :func:`load`."""
        spec = dict(self._spec)
        spec.update(
            family=self.family.name,
            link=self.family.link.name,
            link_power=getattr(self.family.link, "power", None),
            alpha=getattr(self.family, "alpha", None),
            names=self.names,
            start=self.start,
        )
        if self.mle is not None:
            spec["mle"] = {
                "params": self.mle.params.tolist(),
                "bse": self.mle.bse.tolist(),
                "scale": self.mle.scale,
                "alpha": self.mle.alpha,
                "alpha_se": self.mle.alpha_se,
                "nobs": self.mle.nobs,
            }
        if self.formula_spec is not None:
            spec["formula"] = self.formula_spec.to_dict()
        idata = self.idata.copy()
        idata.posterior.attrs["bayesglm_spec"] = json.dumps(spec)
        idata.to_netcdf(str(path))

    @classmethod
    def load(cls, path) -> BayesResults:
        """Read a fit written by :meth:`save` (in any process)."""
        idata = az.from_netcdf(str(path))
        if "bayesglm_spec" not in idata.posterior.attrs:
            raise ValueError(f"{path} was not written by BayesResults.save (no model spec)")
        spec = json.loads(idata.posterior.attrs["bayesglm_spec"])
        link = Power(spec["link_power"]) if spec["link"] == "power" else get_link(spec["link"])
        family = get_family(spec["family"], link)
        mle = _SavedMLE(spec["mle"], spec["names"]) if spec.get("mle") else None
        res = cls(idata, family=family, names=spec["names"], mle=mle, start=spec.get("start", "mle"),
                  spec=spec)
        if spec.get("formula"):
            from .formula import FormulaSpec

            res.formula_spec = FormulaSpec.from_dict(spec["formula"])
        return res

    def __repr__(self):
        post = self.idata.posterior
        note = self.response_note()
        return (
            f"<BayesResults {type(self.family).__name__}({type(self.family.link).__name__}) "
            f"chains={post.sizes['chain']} draws={post.sizes['draw']} start={self.start}"
            + ("" if self.formula_spec is None else f" formula={self.formula_spec.formula!r}")
            + ("" if note is None else f"; {note}") + ">"
        )


class _SavedMLE:
    """The classical fit's numbers as saved with a Bayesian fit (enough for summary())."""

    def __init__(self, d: dict, names):
        self.params = pd.Series(d["params"], index=names)
        self.bse = pd.Series(d["bse"], index=names)
        self.scale = d["scale"]
        self.alpha = d["alpha"]
        self.alpha_se = d["alpha_se"]
        self.nobs = d["nobs"]


def load(path) -> BayesResults:
    """Load a Bayesian fit saved with ``BayesResults.save``."""
    return BayesResults.load(path)


def compare(fits: dict, **kwargs) -> pd.DataFrame:
    """LOO comparison of several fits (``{"name": BayesResults, ...}``), via ArviZ."""
    if not isinstance(fits, dict) or not fits:
        raise ValueError("compare() takes a non-empty dict {name: BayesResults}")
    for v in fits.values():
        if isinstance(v, BayesResults):
            v._ensure_loglik()
    return az.compare({k: (v.idata if isinstance(v, BayesResults) else v) for k, v in fits.items()}, **kwargs)
