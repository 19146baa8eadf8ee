"""Cross-check of the patient export against standard survival software (Python lifelines).

Not part of `cargo test` (it needs Python packages); run by hand:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install lifelines
    hsctsim run scenarios/reference_markov.toml --patients 20000 --out /tmp/ref \
        --export-patients /tmp/ref.csv [--accrual 48m --min-follow-up 12m]
    /tmp/venv/bin/python tests/external/lifelines_check.py /tmp/ref.csv /tmp/ref/curves.csv \
        --relapse relapse2 --death-relapse death_relapse --death-nrm death_nrm

Computes, per strategy and from cohort entry, OS with lifelines' KaplanMeierFitter and CIR
and NRM with its AalenJohansenFitter, and prints the largest difference from curves.csv:
without censoring it must be rounding; with censoring, in units of the estimator's SE
(from lifelines' 95 % interval).
"""

import argparse
import sys
import warnings

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter

warnings.simplefilter("ignore")

parser = argparse.ArgumentParser()
parser.add_argument("export")
parser.add_argument("curves")
parser.add_argument("--relapse", nargs="*", default=[], help="states whose entry is a relapse")
parser.add_argument("--death-relapse", nargs="+", required=True)
parser.add_argument("--death-nrm", nargs="+", required=True)
args = parser.parse_args()

rows = pd.read_csv(args.export, keep_default_na=False)
curves = pd.read_csv(args.curves)
relapse_states = set(args.relapse) | set(args.death_relapse)
deaths = set(args.death_relapse) | set(args.death_nrm)

worst = {}
for strategy, lives in rows.groupby("strategy", sort=False):
    lives = lives.sort_values(["patient", "time"], kind="stable")
    last = lives.groupby("patient").tail(1)
    os_time = last["time"].to_numpy()
    os_event = last["to"].isin(deaths).to_numpy()
    # First relapse or death after entry: cause 1 relapse, 2 NRM, 0 censored.
    events = lives[lives["to"].isin(relapse_states | set(args.death_nrm)) & (lives["event"] == "transition")]
    first = events.groupby("patient").head(1).set_index("patient")
    end = last.set_index("patient")["time"]
    cause = pd.Series(0, index=end.index)
    when = end.copy()
    when.loc[first.index] = first["time"]
    cause.loc[first.index] = np.where(first["to"].isin(relapse_states), 1, 2)

    grid = curves[(curves.strategy == strategy) & (curves.origin == "entry") & (curves.measure == "os")]
    times = grid["time"].to_numpy()

    def simulated(measure):
        c = curves[(curves.strategy == strategy) & (curves.origin == "entry") & (curves.measure == measure)]
        return c["estimate"].to_numpy()

    km = KaplanMeierFitter().fit(os_time, os_event)
    estimate = km.survival_function_at_times(times).to_numpy()
    ci = km.confidence_interval_survival_function_
    lower = np.interp(times, ci.index.to_numpy(), ci.iloc[:, 0].to_numpy())
    upper = np.interp(times, ci.index.to_numpy(), ci.iloc[:, 1].to_numpy())
    results = [("os", estimate, (upper - lower) / (2 * 1.96))]
    for k, measure in [(1, "cir"), (2, "nrm")]:
        aj = AalenJohansenFitter(calculate_variance=True).fit(when.to_numpy(), cause.to_numpy(), event_of_interest=k)
        cif = aj.cumulative_density_
        steps = cif.index.to_numpy()
        idx = np.searchsorted(steps, times, side="right") - 1
        value = np.where(idx >= 0, cif.iloc[np.maximum(idx, 0), 0].to_numpy(), 0.0)
        var = np.asarray(aj.variance_, dtype=float).reshape(-1)
        se = np.where(idx >= 0, np.sqrt(var[np.maximum(idx, 0)]), 0.0)
        results.append((measure, value, se))
    for measure, value, se in results:
        diff = np.abs(value - simulated(measure))
        at_risk = np.array([(os_time >= t).sum() for t in times])
        keep = at_risk >= 100
        z = np.where(se[keep] > 0, diff[keep] / np.maximum(se[keep], 1e-300), 0.0)
        worst[(strategy, measure)] = (diff[keep].max(), z.max())

for (strategy, measure), (diff, z) in worst.items():
    print(f"{strategy:>16} {measure:>4}: largest difference {diff:.3g} ({z:.2f} SE)")
