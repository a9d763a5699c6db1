"""The GLM families: each owns its rules (see :mod:`.base`); the registry maps names to them.

A new family is one module here with its class and one :func:`register` line below; the
registry-driven tests (``tests/unit/test_families.py``) pick it up. A user's own subclass works
in ``fit_mle()`` and ``fit()`` without registering; registering it gives it a name for
``family="..."`` strings and for :func:`bayesglm.load`.
"""

from .base import FAMILIES, Domain, Family, PrecisionParameter, from_spec, get_family, register
from .beta import Beta
from .beta_binomial import BetaBinomial
from .binomial import Binomial
from .cumulative import Cumulative
from .gamma import Gamma
from .gaussian import Gaussian
from .inverse_gaussian import InverseGaussian
from .likelihood import LikelihoodFamily, Param
from .negative_binomial import NegativeBinomial
from .poisson import Poisson
from .student_t import StudentT
from .tweedie import Tweedie
from .zero_counts import (HurdleNegativeBinomial, HurdlePoisson, ZeroInflatedNegativeBinomial,
                          ZeroInflatedPoisson)

__all__ = [
    "Family",
    "Domain",
    "PrecisionParameter",
    "Gaussian",
    "Binomial",
    "Poisson",
    "Gamma",
    "InverseGaussian",
    "NegativeBinomial",
    "Beta",
    "StudentT",
    "BetaBinomial",
    "Tweedie",
    "Cumulative",
    "ZeroInflatedPoisson",
    "ZeroInflatedNegativeBinomial",
    "HurdlePoisson",
    "HurdleNegativeBinomial",
    "LikelihoodFamily",
    "Param",
    "get_family",
    "register",
    "from_spec",
    "FAMILIES",
]

register(Gaussian, "normal")
register(Binomial, "bernoulli", "logistic")
register(Poisson)
register(Gamma)
register(InverseGaussian, "inversegaussian", "inverse.gaussian")
register(NegativeBinomial, "negativebinomial", "negbin", "nb")
register(Beta)
register(StudentT, "studentt", "student", "t")
register(BetaBinomial, "betabinomial")
register(Tweedie)
register(Cumulative, "ordinal", "polr", "clm")
register(ZeroInflatedPoisson, "zip", "zeroinflatedpoisson")
register(ZeroInflatedNegativeBinomial, "zinb", "zeroinflatednegativebinomial")
register(HurdlePoisson, "hurdlepoisson")
register(HurdleNegativeBinomial, "hurdlenegativebinomial", "hurdle_nb")
