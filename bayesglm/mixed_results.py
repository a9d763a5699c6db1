"""The posterior of a model with group-level terms, next to lme4's fit (what ``GLM.fit`` returns).

:class:`MixedBayesResults` is a :class:`~bayesglm.bayes_results.BayesResults` whose linear
predictor has the group effects: its posterior holds ``beta``, the dispersion, every
``sd_<group>__<term>`` and ``cor_<group>__<t1>__<t2>`` and the group effects ``r_<label>``
(dims ``<label>__level`` x ``<label>__term``; the label is the group, ``group.1`` for a second
term of the same group). Predictions (``re="include"`` or ``"exclude"``, an unseen level's
effects drawn from the fitted population, as rstanarm's ``posterior_predict``), LOO/WAIC and
y_rep use the draws of the effects; ``summary()`` adds the sd and correlation rows with the
Laplace estimates in the ``mle`` column.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

from ._x64 import float64
from .bayes_results import BayesResults, hdi_columns
from .group_design import GroupFactor, GroupRows, term_labels
from .likelihood_bayes import LikelihoodBayesResults
from .problem import Problem

__all__ = ["MixedBayesResults", "MixedLikelihoodBayesResults", "mixed_results_class",
           "effect_draws", "factor_spec", "factors_from_spec", "saved_mle", "RE_CHOICES"]

RE_CHOICES = ("include", "exclude")


def effect_draws(posterior, groups) -> tuple:
    """The terms' (chains, draws, levels, q) effects from a posterior (dict or Dataset)."""
    factors = [g if isinstance(g, GroupFactor) else g[0] for g in groups]
    out = []
    for label in term_labels(factors):
        v = posterior[f"r_{label}"]
        out.append(np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v))
    return tuple(out)


class MixedBayesResults(BayesResults):
    """The posterior of a GLM with group-level terms (see the module docstring)."""

    def __init__(self, idata, *, groups, **kwargs):
        super().__init__(idata, **kwargs)
        pairs = bool(groups) and not isinstance(groups[0], GroupFactor)
        self.factors = [g[0] if pairs else g for g in groups]
        """list of GroupFactor: the group-level terms (group, terms, levels, correlated)."""
        self._rows = [g[1] for g in groups] if pairs else None  # else: from constant_data

    # -- draws -------------------------------------------------------------------------------
    def _effects(self) -> tuple:
        return effect_draws(self.idata.posterior, self.factors)

    def _group_rows(self) -> tuple:
        if self._rows is not None:
            return tuple(self._rows)
        cd = self.idata.constant_data
        return tuple(GroupRows(cd[f"Z_{lb}"].to_numpy().astype(float),
                               cd[f"index_{lb}"].to_numpy().astype(np.int32))
                     for lb in term_labels(self.factors))

    def _obs_data(self, what: str) -> Problem:
        return super()._obs_data(what)._replace(groups=self._group_rows())

    def _group_effects(self):
        """Every draw's group effects, and draws from the population for unseen levels (one
        per posterior draw and level, seed 0: the same within one call's counterfactual
        rows)."""
        from .interpret import GroupEffects

        effects = tuple(e.reshape((-1,) + e.shape[2:]) for e in self._effects())
        rng = np.random.default_rng(0)
        return GroupEffects(tuple(self.factors), effects,
                            lambda j, k: self._population_draws(self.factors[j], k, rng))

    def cov_names(self) -> list[str]:
        """The sd and correlation parameters' names, in the terms' order."""
        out = []
        for f in self.factors:
            out += [f"sd_{f.group}__{t}" for t in f.terms]
            if f.correlated:
                q = len(f.terms)
                out += [f"cor_{f.group}__{f.terms[j]}__{f.terms[i]}"
                        for j in range(q) for i in range(j + 1, q)]
        return out

    # -- tables ------------------------------------------------------------------------------
    # summary() is BayesResults'; these give it a row for every sd_* and cor_* between the
    # fixed effects and the dispersion, with lme4's estimate (no standard error) in ``mle``
    def _extra_params(self) -> list[str]:
        return self.cov_names()

    def _mle_extras(self) -> dict:
        vc = self.mle.varcorr()["estimate"]
        return {name: vc.get(name, np.nan) for name in self.cov_names()}

    def mle_dispersion(self):
        if self.mle is None or self.dispersion_name is None:
            return None
        return float(self.mle.varcorr()["estimate"][self.dispersion_name]), np.nan

    def ranef(self, hdi_prob: float | None = None) -> dict[str, pd.DataFrame]:
        """The group effects' posterior means: label -> DataFrame (index: levels, columns:
        terms), ``mle.ranef()``'s shape. ``hdi_prob``: instead a DataFrame per label with
        columns (term, statistic) for ``mean``, ``sd`` and the HDI bounds."""
        out = {}
        for f, label, draws in zip(self.factors, term_labels(self.factors), self._effects()):
            idx = pd.Index(f.levels, name=f.group)
            if hdi_prob is None:
                out[label] = pd.DataFrame(draws.mean(axis=(0, 1)), index=idx,
                                          columns=list(f.terms))
                continue
            lo, hi = hdi_columns(hdi_prob)
            parts = {}
            for k, t in enumerate(f.terms):
                d = draws[..., k]
                h = az.hdi(d, hdi_prob=hdi_prob)
                parts[t] = pd.DataFrame({"mean": d.mean(axis=(0, 1)),
                                         "sd": d.reshape(-1, d.shape[-1]).std(axis=0, ddof=1),
                                         lo: h[:, 0], hi: h[:, 1]}, index=idx)
            out[label] = pd.concat(parts, axis=1)
        return out

    # -- prediction --------------------------------------------------------------------------
    def _new_eta(self, data, offset, exposure, trials, *, seed: int = 0, re: str = "include"):
        from .problem import eta_draws

        beta = self._draws()[0]
        beta = beta.reshape(-1, beta.shape[-1])
        effects = [e.reshape((-1,) + e.shape[2:]) for e in self._effects()]
        X, off, index, trials = self._rows_of(data, offset, exposure, trials)
        if re == "exclude":
            groups, effects = (), []
        elif data is None:
            groups = self._group_rows()
        else:
            groups, effects = self._new_groups(data, effects, seed)
        eta = np.empty((beta.shape[0], X.shape[0]))
        step = max(1, 2**22 // max(1, beta.shape[0]))
        for s in range(0, X.shape[0], step):
            sl = slice(s, s + step)
            part = tuple(GroupRows(g.Z[sl], g.index[sl]) for g in groups)
            eta[:, sl] = eta_draws(beta, X[sl], None if off is None else off[sl], part, effects)
        return eta, index, trials

    def _new_groups(self, data, effects, seed: int):
        """The new rows' group terms, and the effects with a draw from the population for every
        level not seen in the fit (one per posterior draw and new level, as rstanarm)."""
        if self.formula_spec is None:
            raise ValueError("predict(data, re='include') needs the model's formula to find the "
                             "new rows' groups (a model made by bg.glm); pass re='exclude' for "
                             "the fixed effects alone")
        found = self.formula_spec.group_rows(data, self.factors)
        rng = np.random.default_rng(seed)
        groups, out = [], []
        for f, (rows, new_levels), draws in zip(self.factors, found, effects):
            if new_levels:
                new = self._population_draws(f, len(new_levels), rng)
                draws = np.concatenate([draws, new], axis=1)
            groups.append(rows)
            out.append(draws)
        return tuple(groups), out

    def _population_draws(self, f: GroupFactor, k: int, rng) -> np.ndarray:
        """(draws, k, q) effects of k new levels of term ``f``: for each posterior draw,
        b ~ N(0, Sigma_draw)."""
        post = self.idata.posterior
        sd = np.stack([post[f"sd_{f.group}__{t}"].to_numpy().reshape(-1) for t in f.terms],
                      axis=-1)
        q = len(f.terms)
        corr = np.broadcast_to(np.eye(q), sd.shape + (q,)).copy()
        for j in range(q):
            for i in range(j + 1, q):
                name = f"cor_{f.group}__{f.terms[j]}__{f.terms[i]}"
                if name in post:
                    corr[:, i, j] = corr[:, j, i] = post[name].to_numpy().reshape(-1)
        cov = sd[:, :, None] * corr * sd[:, None, :]
        C = np.linalg.cholesky(cov + 1e-300 * np.eye(q))
        e = rng.standard_normal((sd.shape[0], k, q))
        return np.einsum("dij,dlj->dli", C, e)

    @float64
    def predict(self, data=None, *, kind: str = "mean", re: str = "include",
                hdi_prob: float = 0.94, offset=None, exposure=None, trials=None,
                seed: int = 0) -> pd.DataFrame:
        """Posterior predictions, as :meth:`BayesResults.predict`, with the group effects.

        ``re="include"`` (the default): each row's group effects; a level not seen in the fit
        gets effects drawn from the fitted population (for each posterior draw, b ~ N(0,
        Sigma_draw)), as rstanarm's ``posterior_predict``. ``re="exclude"``: the fixed effects
        alone (the population-level prediction, b = 0).
        """
        if re not in RE_CHOICES:
            raise ValueError(f"re must be one of {', '.join(map(repr, RE_CHOICES))}; got {re!r}")
        return self._predict(data, kind, hdi_prob, offset, exposure, trials, seed, {"re": re})

    # -- persistence -------------------------------------------------------------------------
    def save(self, path) -> None:
        """As :meth:`BayesResults.save`, with the group terms (their levels, columns and every
        row's level, for ``predict()``, ``loo()`` and ``posterior_predictive()`` after
        :func:`bayesglm.load`) and lme4's estimates for ``summary()``."""
        self._spec = {**self._spec, "groups": factor_spec(self.factors)}
        super().save(path)

    def _mle_record(self) -> dict:
        return {"params": self.mle.params.tolist(), "bse": self.mle.bse.tolist(),
                "varcorr": {k: float(v) for k, v in self.mle.varcorr()["estimate"].items()},
                "nobs": int(self.mle.nobs)}

    def __repr__(self):
        groups = {f.group: f.n_levels for f in self.factors}
        return super().__repr__()[:-1] + f" groups={groups}>"


class MixedLikelihoodBayesResults(MixedBayesResults, LikelihoodBayesResults):
    """The posterior of a LikelihoodFamily's model (Beta, ordinal, zero-inflated, ...) with
    group-level terms: a :class:`MixedBayesResults` (group effects in every prediction,
    ``re=``, ``ranef()``, the sd and correlation rows) whose family's extra parameters are
    posterior variables under their names, as :class:`LikelihoodBayesResults` (the
    family's ``predict`` kinds, y drawn by ``draw_rows``). ``summary()``: the fixed effects,
    the sd's and correlations (the Laplace estimates in ``mle``), then the extra parameters'
    entries under the MLE's labels (with its estimates and standard errors)."""

    def _extra_params(self) -> list[str]:
        return self.cov_names() + LikelihoodBayesResults._extra_params(self)

    def _mle_record(self) -> dict:
        return {**MixedBayesResults._mle_record(self),
                "names": [str(n) for n in self.mle.params.index]}


def mixed_results_class(exact: bool) -> type:
    """The results class of a mixed model's posterior: a LikelihoodFamily's (``exact``) or the
    others'."""
    return MixedLikelihoodBayesResults if exact else MixedBayesResults


def factor_spec(factors) -> list[dict]:
    """The terms' description for a fit file."""
    return [{"group": f.group, "terms": list(f.terms), "levels": list(f.levels),
             "correlated": bool(f.correlated)} for f in factors]


def factors_from_spec(spec: list[dict]) -> list[GroupFactor]:
    return [GroupFactor(d["group"], tuple(d["terms"]), tuple(d["levels"]), bool(d["correlated"]))
            for d in spec]


class _SavedMixedMLE:
    """lme4's estimates as saved with a Bayesian fit (enough for ``summary()``)."""

    def __init__(self, d: dict, names):
        names = d.get("names", names)  # a LikelihoodFamily's: its extra parameters' labels too
        self.params = pd.Series(d["params"], index=list(names), name="params")
        self.bse = pd.Series(d["bse"], index=list(names), name="bse")
        self._varcorr = dict(d["varcorr"])
        self.nobs = d["nobs"]

    def varcorr(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": pd.Series(self._varcorr, dtype=float)})

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        from .results import wald_interval

        return wald_interval(self.params, self.bse, alpha)


def saved_mle(d: dict, names) -> _SavedMixedMLE:
    """lme4's estimates from a fit file's record."""
    return _SavedMixedMLE(d, names)
