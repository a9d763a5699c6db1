"""The ``bayesglm`` command."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _demo(args) -> int:
    import pandas as pd

    import bayesglm as bg

    df = bg.datasets.load("dobson")
    # R's ?glm example: glm(counts ~ outcome + treatment, family = poisson())
    X = pd.get_dummies(df[["outcome", "treatment"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "Intercept", 1.0)
    print("bayesglm demo: Poisson GLM of Dobson's (1990) trial counts, R's ?glm example")
    print("counts ~ outcome + treatment\n")
    mle = bg.GLM(df["counts"], X, family="poisson").fit_mle()
    print(mle.summary())
    print(f"\nnull deviance {mle.null_deviance:.4f} on {len(df) - 1} df; "
          f"residual deviance {mle.deviance:.4f} on {mle.df_resid:g} df; AIC {mle.aic:.2f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bayesglm", description="Bayesian GLMs with the classical fit beside them.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="fit a model to a bundled data set and print the results")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
