"""Write the bundled CSV files (run once; the CSVs are committed, this script is their recipe).

    python -m bayesglm.datasets._make_datasets

* ``claims`` is synthetic: drawn here with a fixed seed from a Poisson GLM whose coefficients
  are written below (``CLAIMS_TRUE``).
* ``challenger`` is typed in below from the published table (23 flights).
* ``strikes``, ``anes96`` and ``randhie`` are public-domain data sets shipped with statsmodels
  (``statsmodels.datasets``); this script takes a subset of their columns (and, for the 20,190
  rows of ``randhie``, a fixed-seed random sample of 400 rows) to keep each file a few KB.
  statsmodels is needed only to re-run this script (it is a test extra of bayesglm).
* ``wine`` is typed in below from the published table (Randall 1989: 9 judges x 8 ratings).
* ``dobson`` is written by hand (nine numbers from Dobson 1990) and not touched here.

Running it again writes byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent

#: seed of every random choice made here
SEED = 20240604

#: the true coefficients of the synthetic ``claims`` data (log claim rate per policy-year)
CLAIMS_TRUE = {
    "Intercept": np.log(0.15),
    "age[T.25-39]": -0.35,
    "age[T.40-59]": -0.55,
    "age[T.60+]": -0.45,
    "vehicle[T.B]": 0.15,
    "vehicle[T.C]": 0.30,
    "vehicle[T.D]": 0.50,
    "region[T.north]": 0.10,
    "region[T.south]": -0.05,
    "region[T.west]": 0.20,
}

# Challenger O-rings: per flight before the accident, the 6 field-joint O-rings, how many showed
# thermal distress (erosion or blow-by), launch temperature (F), leak-check pressure (psi) and
# the flight's order. Rogers Commission (1986); Dalal, Fowlkes & Hoadley (1989); UCI
# "o-ring-erosion-or-blowby" (checked: the logistic fit of damaged ~ temp gives R's 15.0429,
# -0.2322, residual deviance 20.315; the binomial fit of distress ~ temp Dalal's 5.085, -0.1156).
_CHALLENGER = """\
6 0 66 50 1
6 1 70 50 2
6 0 69 50 3
6 0 68 50 4
6 0 67 50 5
6 0 72 50 6
6 0 73 100 7
6 0 70 100 8
6 1 57 200 9
6 1 63 200 10
6 1 70 200 11
6 0 78 200 12
6 0 67 200 13
6 2 53 200 14
6 0 67 200 15
6 0 75 200 16
6 0 70 200 17
6 0 81 200 18
6 0 76 200 19
6 0 79 200 20
6 2 75 200 21
6 0 76 200 22
6 1 58 200 23
"""


def claims() -> pd.DataFrame:
    """Synthetic grouped insurance claims: 4 age bands x 4 vehicle groups x 4 regions."""
    rng = np.random.default_rng(SEED)
    ages = ["17-24", "25-39", "40-59", "60+"]
    vehicles = ["A", "B", "C", "D"]
    regions = ["east", "north", "south", "west"]
    rows = [(a, v, r) for a in ages for v in vehicles for r in regions]
    df = pd.DataFrame(rows, columns=["age", "vehicle", "region"])
    # policy-years of exposure per cell, one decimal
    df["holders"] = np.round(rng.lognormal(mean=np.log(300.0), sigma=0.9, size=len(df)), 1)
    eta = np.full(len(df), CLAIMS_TRUE["Intercept"])
    for col in ("age", "vehicle", "region"):
        for j, level in enumerate(df[col]):
            eta[j] += CLAIMS_TRUE.get(f"{col}[T.{level}]", 0.0)
    df["claims"] = rng.poisson(df["holders"].to_numpy() * np.exp(eta))
    return df[["claims", "holders", "age", "vehicle", "region"]]


def challenger() -> pd.DataFrame:
    rows = [list(map(int, line.split())) for line in _CHALLENGER.splitlines()]
    df = pd.DataFrame(rows, columns=["orings", "distress", "temp", "pressure", "flight"])
    df["damaged"] = (df["distress"] > 0).astype(int)
    return df[["flight", "temp", "pressure", "orings", "distress", "damaged"]]


#: Randall's (1989) bitterness ratings, 1 (least bitter) to 5: a line per judge 1-9, its eight
#: ratings in the order (temp, contact) = (cold, no) x 2, (cold, yes) x 2, (warm, no) x 2,
#: (warm, yes) x 2 (two bottles each)
_WINE = """\
2 3 3 4 4 4 5 5
1 2 1 3 2 3 5 4
2 3 3 2 5 5 4 4
3 2 3 2 3 2 5 3
2 3 4 3 3 3 3 3
3 2 3 2 2 4 5 4
1 1 2 2 2 3 2 3
2 2 2 3 3 3 3 4
1 2 3 2 3 2 4 4
"""


def wine() -> pd.DataFrame:
    cells = [("cold", "no"), ("cold", "yes"), ("warm", "no"), ("warm", "yes")]
    rows = []
    for judge, line in enumerate(_WINE.splitlines(), start=1):
        for k, rating in enumerate(map(int, line.split())):
            temp, contact = cells[k // 2]
            rows.append((rating, temp, contact, judge))
    return pd.DataFrame(rows, columns=["rating", "temp", "contact", "judge"])


def strikes() -> pd.DataFrame:
    from statsmodels.datasets import strikes as src

    df = src.load_pandas().data
    return pd.DataFrame({"duration": df["duration"].astype(int), "iprod": df["iprod"].round(5)})


def anes96() -> pd.DataFrame:
    from statsmodels.datasets import anes96 as src

    df = src.load_pandas().data
    out = pd.DataFrame({
        "vote": np.where(df["vote"].to_numpy() == 1, "Dole", "Clinton"),
        "PID": df["PID"].astype(int),
        "age": df["age"].astype(int),
        "educ": df["educ"].astype(int),
        "income": df["income"].astype(int),
        "selfLR": df["selfLR"].astype(int),
        "TVnews": df["TVnews"].astype(int),
    })
    return out


def randhie(n: int = 400) -> pd.DataFrame:
    from statsmodels.datasets import randhie as src

    df = src.load_pandas().data
    rng = np.random.default_rng(SEED)
    rows = np.sort(rng.choice(len(df), size=n, replace=False))
    df = df.iloc[rows].reset_index(drop=True)
    health = np.select(
        [df["hlthp"] == 1, df["hlthf"] == 1, df["hlthg"] == 1], ["poor", "fair", "good"],
        default="excellent",
    )
    return pd.DataFrame({
        "mdvis": df["mdvis"].astype(int),
        "lncoins": df["lncoins"].round(4),
        "idp": df["idp"].astype(int),
        "lpi": df["lpi"].round(4),
        "fmde": df["fmde"].round(4),
        "physlm": df["physlm"].astype(int),
        "disea": df["disea"].round(4),
        "health": health,
    })


MAKERS = {"claims": claims, "challenger": challenger, "strikes": strikes, "anes96": anes96,
          "randhie": randhie, "wine": wine}


def main() -> None:
    for name, make in MAKERS.items():
        path = HERE / f"{name}.csv"
        make().to_csv(path, index=False, lineterminator="\n")
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
