#!/usr/bin/env python3
# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-risk evaluation of docs/payment-risk.md, without Odoo: the
simulator's histories, the add-on's own feature functions and learning, a
time-based split, the model against both baselines with bootstrap intervals.

    python3 tests/payment_risk_eval.py [--subscribers 6000] [--seed 1]

prints the report (Markdown)."""

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "isp_payment_risk"))

from riskcore import features as F  # noqa: E402
from riskcore import learn as L  # noqa: E402

import payment_risk_simulator as sim  # noqa: E402

GRACE = 0
HOLDOUT_DAYS = 182  # the last six months of issue dates


def dataset(histories, as_of, grace=GRACE):
    """Rows of every settled invoice: features, label, days to pay, issue
    date, subscription, segment, planted."""
    X, y, days, dates, groups, segments, planted = [], [], [], [], [], [], []
    for history in histories:
        for inv, vector, late, d in F.labelled_rows(history, grace, as_of):
            X.append(vector)
            y.append(late)
            days.append(d)
            dates.append(inv["date"])
            groups.append(history["id"])
            segments.append(history["segment"])
            planted.append(inv["planted"])
    return {
        "X": L.to_matrix(X),
        "y": np.array(y, dtype=np.int8),
        "days": np.array(days, dtype=float),
        "dates": np.array(dates, dtype="datetime64[D]"),
        "groups": np.array(groups),
        "segments": np.array(segments),
        "planted": np.array(planted, dtype=bool),
    }


def run(subscribers=6000, months=24, seed=1, holdout_days=HOLDOUT_DAYS):
    histories = sim.simulate(subscribers, months, seed)
    as_of = sim.end_of(histories) + timedelta(days=60)
    data = dataset(histories, as_of)
    test = L.time_split(data["dates"], holdout_days)
    ev = L.evaluate(
        data["X"][~test],
        data["y"][~test],
        data["days"][~test],
        data["X"][test],
        data["y"][test],
        data["groups"][test],
        seed,
    )
    ev["data"] = data
    ev["test"] = test
    return ev


def segment_risks(ev):
    """Mean model risk on the hold-out, per segment (planted invoices of the
    late segments; all invoices of the punctual one)."""
    data, test = ev["data"], ev["test"]
    p = ev["scores"]["model"]
    seg, planted = data["segments"][test], data["planted"][test]
    out = {}
    for name in sim.SEGMENTS:
        mask = seg == name
        if name not in ("punctual", "promise_keeper"):
            mask &= planted
        if mask.any():
            out[name] = (float(p[mask].mean()), int(mask.sum()))
    return out


def _fmt(value, interval):
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def report(ev, subscribers, seed):
    data, test = ev["data"], ev["test"]
    lines = [
        f"Simulator: {subscribers} subscribers, 24 months, seed {seed}; "
        f"{int((~test).sum())} training invoices, {int(test.sum())} hold-out "
        f"invoices (last {HOLDOUT_DAYS} days of issue dates), late share "
        f"{data['y'][test].mean():.3f} in the hold-out.",
        "",
        "| score | PR-AUC | ROC-AUC | Brier | calibration error "
        "| late caught in top 10 % |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("model", "previous_late", "late_rate"):
        f, i = ev["figures"][name], ev["intervals"][name]
        lines.append(
            f"| {name} | "
            + " | ".join(
                _fmt(f[k], i[k]) for k in ("pr_auc", "roc_auc", "brier", "ece", "top10")
            )
            + " |"
        )
    lines += [
        "",
        f"Better baseline: {ev['best_baseline']}. Model wins (PR-AUC interval "
        f"above the better baseline's, calibration error < 0.05): "
        f"{'yes' if ev['model_wins'] else 'no'}.",
        "",
    ]
    for name in ("model", "previous_late", "late_rate"):
        lines += [
            f"Calibration of {name} on the hold-out:",
            "",
            "| predicted | invoices | mean predicted | observed late share |",
            "| --- | --- | --- | --- |",
        ]
        for low, high, count, mean_p, observed in ev["calibration"][name]:
            lines.append(
                f"| {low:.1f}-{high:.1f} | {count} | {mean_p:.3f} | {observed:.3f} |"
            )
        lines.append("")
    lines += [
        "| segment | hold-out invoices | mean model risk |",
        "| --- | --- | --- |",
    ]
    for name, (mean, count) in segment_risks(ev).items():
        lines.append(f"| {name} | {count} | {mean:.3f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ev = run(args.subscribers, seed=args.seed)
    print(report(ev, args.subscribers, args.seed))


if __name__ == "__main__":
    main()
