# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Training, baselines, evaluation and explanation of the payment-risk model,
over feature matrices (numpy). No Odoo here (see ``features``)."""

import io
import math
import pickle

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from threadpoolctl import threadpool_limits

from .features import FEATURE_VERSION, FEATURES, INDEX, REASON_GROUPS, reason_facts

# The history a company needs before anything is scored.
MIN_LATE = 10
MIN_ON_TIME = 10
BOOTSTRAP = 200
# One thread: an Odoo worker shares the machine with the others, and
# OpenMP's threads spin badly on a busy machine (slower than one thread).
THREADS = 1
REASON_MIN_DELTA = 0.02  # a factor must add 2 points of probability
MAX_REASONS = 3


class TooShort(Exception):
    """The history is too short to train: ``args[0]`` is a code, ``kwargs``
    in ``params``."""

    def __init__(self, code, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def check_history(dates, labels, min_invoices, min_months):
    """Raise :class:`TooShort` unless the labelled history has ``min_invoices``
    invoices over ``min_months`` months (calendar months from the first to
    the last issue date: 5 November to 5 October is 11), with at
    least :data:`MIN_LATE` late and :data:`MIN_ON_TIME` in time."""
    n = len(labels)
    if n < min_invoices:
        raise TooShort("invoices", count=n, needed=min_invoices)
    first, last = min(dates), max(dates)
    months = (last.year - first.year) * 12 + last.month - first.month
    if months < min_months:
        raise TooShort("months", months=months, needed=min_months)
    late = int(np.sum(labels))
    if late < MIN_LATE:
        raise TooShort("late", count=late, needed=MIN_LATE)
    if n - late < MIN_ON_TIME:
        raise TooShort("on_time", count=n - late, needed=MIN_ON_TIME)


def _classifier(seed):
    return HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        max_leaf_nodes=24,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def _regressor(seed):
    return HistGradientBoostingRegressor(
        max_iter=100,
        learning_rate=0.08,
        max_leaf_nodes=24,
        min_samples_leaf=40,
        early_stopping=False,
        random_state=seed,
    )


class Scorer:
    """What is stored: the fitted model, or a baseline when the model did not
    beat it (``kind``), with what explaining and the baselines need."""

    def __init__(self, kind, seed=0):
        self.kind = kind  # "model" or "baseline_rate"
        self.seed = seed
        self.feature_version = FEATURE_VERSION
        self.classifier = None
        self.regressor = None
        self.prior = 0.0
        self.reference = None
        self.previous_late_rates = {}

    # --- fitting ---

    def fit(self, X, y, days):
        """Fit on the rows ``X``, labels ``y`` and days to pay ``days``
        (``None``: no regressor of the days to pay, as the evaluation, which
        does not use them)."""
        y = np.asarray(y, dtype=np.int8)
        self.prior = float(y.mean())
        last = X[:, INDEX["last_late"]]
        self.previous_late_rates = {
            value: float(y[last == value].mean()) if np.any(last == value) else 0.0
            for value in (-1.0, 0.0, 1.0)
        }
        # The explanations compare with a typical punctual invoice: the
        # median features of the invoices paid in time.
        on_time = X[y == 0] if np.any(y == 0) else X
        self.reference = np.median(on_time, axis=0)
        with threadpool_limits(THREADS):
            if self.kind == "model":
                self.classifier = _classifier(self.seed).fit(X, y)
            if days is not None:
                self.regressor = _regressor(self.seed).fit(X, np.clip(days, 0, 120))
        return self

    # --- scoring ---

    def baseline_rate(self, X):
        """The customer's historical late rate, shrunk towards the overall
        rate by two invoices' weight (a new customer gets the overall rate)."""
        n = X[:, INDEX["n_known"]]
        return (X[:, INDEX["late_rate"]] * n + 2 * self.prior) / (n + 2)

    def baseline_previous(self, X):
        """Paid the previous invoice late: the late share of the training
        invoices with the same previous outcome (late, in time, none)."""
        last = X[:, INDEX["last_late"]]
        out = np.full(len(X), self.prior)
        for value, rate in self.previous_late_rates.items():
            out[last == value] = rate
        return out

    def probability(self, X):
        if not len(X):
            return np.zeros(0)
        if self.kind == "model":
            with threadpool_limits(THREADS):
                return self.classifier.predict_proba(X)[:, 1]
        return self.baseline_rate(X)

    def days_to_pay(self, X):
        if not len(X):
            return np.zeros(0)
        with threadpool_limits(THREADS):
            return np.clip(self.regressor.predict(X), 0, None)

    def explain(self, X, probabilities=None):
        """The top reasons of each row: a list (per row) of ``(group, params)``,
        strongest first: the groups whose fact holds (``reason_facts``) and
        whose features, set to a punctual invoice's, lower the probability by
        :data:`REASON_MIN_DELTA` or more."""
        if probabilities is None:
            probabilities = self.probability(X)
        facts = [reason_facts(row) for row in X]
        deltas = {}
        for group, names in REASON_GROUPS.items():
            rows = [i for i, f in enumerate(facts) if group in f]
            if not rows:
                continue
            changed = np.array(X[rows], dtype=float)
            for name in names:
                changed[:, INDEX[name]] = self.reference[INDEX[name]]
            drop = probabilities[rows] - self.probability(changed)
            for i, value in zip(rows, drop, strict=True):
                deltas.setdefault(i, []).append((float(value), group))
        result = []
        for i, f in enumerate(facts):
            ranked = sorted(deltas.get(i, []), reverse=True)
            result.append(
                [
                    (group, f[group])
                    for value, group in ranked[:MAX_REASONS]
                    if value >= REASON_MIN_DELTA
                ]
            )
        return result

    # --- storage ---

    def dumps(self):
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @staticmethod
    def loads(data):
        scorer = pickle.loads(data)  # noqa: S301 - our own blob, hash checked
        if not isinstance(scorer, Scorer) or scorer.feature_version != FEATURE_VERSION:
            raise ValueError("not a payment-risk scorer of this version")
        return scorer


# --- evaluation -------------------------------------------------------------


def top_share(y, score, share=0.10):
    """Share of the late invoices among the ``share`` riskiest (ties at the
    cut counted pro rata, as a random order among equals would on average)."""
    y = np.asarray(y, dtype=float)
    total = y.sum()
    if not total:
        return float("nan")
    k = max(int(math.ceil(share * len(y))), 1)
    order = np.argsort(-score, kind="stable")
    cut = score[order[k - 1]]
    above = score > cut
    tied = score == cut
    room = k - above.sum()
    caught = y[above].sum() + (y[tied].sum() * room / tied.sum() if room else 0.0)
    return float(caught / total)


def calibration_table(y, p, bins=10):
    """Rows ``(low, high, count, mean predicted, observed late share)`` of
    equal-width probability bins, and the expected calibration error (the
    count-weighted mean of |predicted - observed|)."""
    y = np.asarray(y, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows, error = [], 0.0
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        if not count:
            continue
        mean_p, observed = float(p[mask].mean()), float(y[mask].mean())
        rows.append((float(edges[b]), float(edges[b + 1]), count, mean_p, observed))
        error += count * abs(mean_p - observed)
    return rows, error / len(y)


def _curves(y, p):
    """True and false positives at each distinct threshold, highest first."""
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(ps)), len(ps) - 1]
    tps = np.cumsum(ys)[last]
    return tps, (last + 1) - tps


def average_precision(y, p):
    """Area under the precision-recall curve as scikit-learn's
    ``average_precision_score`` (steps at the distinct scores)."""
    tps, fps = _curves(y, p)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y, p):
    """Area under the ROC curve (trapezoids: ties count half), as
    scikit-learn's ``roc_auc_score``."""
    tps, fps = _curves(y, p)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def metrics(y, p):
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    both = 0 < y.sum() < len(y)
    return {
        "pr_auc": average_precision(y, p) if both else float("nan"),
        "roc_auc": roc_auc(y, p) if both else float("nan"),
        "brier": float(np.mean((p - y) ** 2)),
        "ece": calibration_table(y, p)[1],
        "top10": top_share(y, p),
    }


class _Ranked:
    """A score's rows in decreasing order, once: the metrics of any resample
    of them (a count for each row, :meth:`metrics`) without sorting again."""

    def __init__(self, y, p):
        self.order = np.argsort(-p, kind="mergesort")
        self.y = np.asarray(y, dtype=np.int64)[self.order]
        self.p = np.asarray(p, dtype=float)[self.order]
        # the last row of each run of equal scores
        self.last = np.r_[np.flatnonzero(np.diff(self.p)), len(self.p) - 1]
        self.bins = np.clip(np.digitize(self.p, np.linspace(0, 1, 11)[1:-1]), 0, 9)

    def metrics(self, counts, share=0.10):
        """:func:`metrics` of the resample holding row i ``counts[i]`` times
        (the same figures: the same sums of the same counts, up to the last
        bit of the Brier score's and the calibration error's means)."""
        w = np.asarray(counts, dtype=np.int64)[self.order]
        n = int(w.sum())
        wy = w * self.y
        late = int(wy.sum())
        out = {}
        if 0 < late < n:
            cum_w = np.cumsum(w)[self.last]
            tps = np.cumsum(wy)[self.last]
            keep = np.diff(np.r_[0, cum_w]) > 0  # thresholds in the resample
            tps, fps = tps[keep], cum_w[keep] - tps[keep]
            precision = tps / (tps + fps)
            recall = tps / tps[-1]
            out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
            tpr = np.r_[0.0, tps / tps[-1]]
            fpr = np.r_[0.0, fps / fps[-1]]
            out["roc_auc"] = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        else:
            out["pr_auc"] = out["roc_auc"] = float("nan")
        out["brier"] = float(np.sum(w * (self.p - self.y) ** 2) / n)
        error = 0.0
        count = np.bincount(self.bins, weights=w, minlength=10)
        sum_p = np.bincount(self.bins, weights=w * self.p, minlength=10)
        sum_y = np.bincount(self.bins, weights=wy, minlength=10)
        for b in range(10):
            if count[b]:
                error += count[b] * abs(sum_p[b] / count[b] - sum_y[b] / count[b])
        out["ece"] = float(error / n)
        if not late:
            out["top10"] = float("nan")
        else:
            k = max(int(math.ceil(share * n)), 1)
            cut = self.p[np.searchsorted(np.cumsum(w), k)]
            above, tied = self.p > cut, self.p == cut
            room = k - w[above].sum()
            caught = wy[above].sum() + (
                wy[tied].sum() * room / w[tied].sum() if room else 0.0
            )
            out["top10"] = float(caught / late)
        return out


def bootstrap(y, scores, groups, seed, reps=BOOTSTRAP):
    """95 % intervals of :func:`metrics` for each score (a dict name: array),
    resampling whole subscriptions (``groups``) with replacement, the same
    resamples for every score. ``{name: {metric: (low, high)}}``.

    A resample is a count for each subscription (how many times it was
    drawn): each score is sorted once, and each resample's metrics are
    sums over that order weighted by the counts (:class:`_Ranked`)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=int)
    unique, inverse = np.unique(groups, return_inverse=True)
    ranked = {name: _Ranked(y, np.asarray(p, float)) for name, p in scores.items()}
    samples = {name: [] for name in scores}
    for __ in range(reps):
        pick = rng.integers(0, len(unique), len(unique))
        counts = np.bincount(pick, minlength=len(unique))[inverse]
        for name in scores:
            samples[name].append(ranked[name].metrics(counts))
    return {
        name: {
            key: (
                float(np.nanpercentile([s[key] for s in rows], 2.5)),
                float(np.nanpercentile([s[key] for s in rows], 97.5)),
            )
            for key in rows[0]
        }
        for name, rows in samples.items()
    }


def evaluate(X_train, y_train, d_train, X_test, y_test, groups_test, seed):
    """Fit the model on the earlier rows, score the later ones with the model
    and both baselines: ``{"figures", "intervals", "calibration",
    "model_wins"}`` (``d_train``, the days to pay, is not used: the
    evaluation judges the probability only). The model wins when its PR-AUC
    interval lies wholly above the better baseline's and its calibration
    error is under 0.05."""
    model = Scorer("model", seed).fit(X_train, y_train, None)
    scores = {
        "model": model.probability(X_test),
        "previous_late": model.baseline_previous(X_test),
        "late_rate": model.baseline_rate(X_test),
    }
    figures = {name: metrics(y_test, p) for name, p in scores.items()}
    intervals = bootstrap(y_test, scores, groups_test, seed)
    best = max(("previous_late", "late_rate"), key=lambda n: figures[n]["pr_auc"])
    wins = (
        intervals["model"]["pr_auc"][0] > intervals[best]["pr_auc"][1]
        and figures["model"]["ece"] < 0.05
    )
    return {
        "figures": figures,
        "intervals": intervals,
        "calibration": {
            name: calibration_table(y_test, p)[0] for name, p in scores.items()
        },
        "best_baseline": best,
        "model_wins": bool(wins),
        "model": model,
        "scores": scores,
    }


def time_split(dates, holdout_days):
    """Boolean mask of the hold-out rows: issued in the last ``holdout_days``
    days of the history (train on what came before, never random rows)."""
    dates = np.asarray(dates)
    cut = dates.max() - np.timedelta64(holdout_days, "D")
    return dates > cut


def to_matrix(rows):
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def evaluation(X, y, days, dates, groups, seed=0, holdout_days=91):
    """Evaluate on the last ``holdout_days`` of issue dates (trained on the
    earlier ones): the report (JSON-able), whose ``kind`` is the score to
    keep: the model when it won (:func:`evaluate`), else the historical late
    rate."""
    y = np.asarray(y, dtype=np.int8)
    test = time_split(dates, holdout_days)
    ev = evaluate(X[~test], y[~test], days[~test], X[test], y[test], groups[test], seed)
    return {
        "figures": ev["figures"],
        "intervals": ev["intervals"],
        "calibration": ev["calibration"],
        "best_baseline": ev["best_baseline"],
        "model_wins": ev["model_wins"],
        "kind": "model" if ev["model_wins"] else "baseline_rate",
        "n_train": int((~test).sum()),
        "n_test": int(test.sum()),
        "late_share": float(y.mean()),
    }


def fit_kept(kind, X, y, days, seed=0):
    """The kept score (``kind``, from :func:`evaluation`) fitted on every row."""
    return Scorer(kind, seed).fit(X, np.asarray(y, dtype=np.int8), days)


def train(X, y, days, dates, groups, seed=0, holdout_days=91):
    """:func:`evaluation`, then :func:`fit_kept` on every row: ``(scorer,
    report)``."""
    report = evaluation(X, y, days, dates, groups, seed, holdout_days)
    return fit_kept(report["kind"], X, y, days, seed), report
