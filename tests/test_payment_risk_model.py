# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-risk model without Odoo (isp_payment_risk's riskcore) on the
simulator's histories: planted behaviours recovered, deterministic
training, too-short histories refused, no leakage, and the evaluation's
figures on cases computed by hand."""

import copy
import json
import random
from datetime import date, timedelta

import numpy as np
import pytest

import payment_risk_eval as ev_mod
import payment_risk_simulator as sim

# isp_payment_risk's pure modules, as the evaluation loads them (no Odoo)
F, L = ev_mod.F, ev_mod.L


@pytest.fixture(scope="module")
def evaluation():
    return ev_mod.run(subscribers=1500, seed=3)


def test_planted_behaviours_rank_above_the_punctual(evaluation):
    """Each late segment's planted invoices get a higher mean risk on the
    hold-out months than the punctual customers' invoices."""
    risks = ev_mod.segment_risks(evaluation)
    punctual = risks.pop("punctual")[0]
    assert set(risks) == set(sim.SEGMENTS) - {"punctual"}
    for segment, (mean, count) in risks.items():
        assert count > 20, segment
        assert mean > punctual, (segment, mean, punctual)


def test_the_report_has_every_figure_for_every_score(evaluation):
    for name in ("model", "previous_late", "late_rate"):
        figures, intervals = evaluation["figures"][name], evaluation["intervals"][name]
        assert set(figures) == {"pr_auc", "roc_auc", "brier", "ece", "top10"}
        for key, value in figures.items():
            low, high = intervals[key]
            assert low <= high, (name, key)
            assert 0.0 <= value <= 1.0, (name, key)
    assert evaluation["best_baseline"] in ("previous_late", "late_rate")
    # never random rows: every hold-out invoice is later than every training one
    dates = evaluation["data"]["dates"]
    test = evaluation["test"]
    assert dates[test].min() > dates[~test].max()


def test_training_is_deterministic_for_a_seed():
    data = ev_mod.dataset(sim.simulate(400, seed=5), date(2027, 3, 1))
    args = (data["X"], data["y"], data["days"], data["dates"], data["groups"])
    first, report_1 = L.train(*args, seed=7, holdout_days=120)
    second, report_2 = L.train(*args, seed=7, holdout_days=120)
    assert json.dumps(report_1, sort_keys=True) == json.dumps(report_2, sort_keys=True)
    np.testing.assert_array_equal(
        first.probability(data["X"]), second.probability(data["X"])
    )
    loaded = L.Scorer.loads(first.dumps())
    np.testing.assert_array_equal(
        loaded.probability(data["X"]), first.probability(data["X"])
    )


def test_simulator_is_deterministic_for_a_seed():
    assert sim.simulate(50, seed=9) == sim.simulate(50, seed=9)
    assert sim.simulate(50, seed=9) != sim.simulate(50, seed=10)


def test_too_short_history_is_refused_with_its_reason():
    day = date(2026, 1, 5)
    dates = [day + timedelta(days=30 * n) for n in range(8)]
    labels = np.array([1, 0] * 4)
    with pytest.raises(L.TooShort) as refused:
        L.check_history(dates, labels, 500, 6)
    assert (refused.value.code, refused.value.params) == (
        "invoices",
        {"count": 8, "needed": 500},
    )
    with pytest.raises(L.TooShort) as refused:
        L.check_history(dates[:3], labels[:3], 1, 6)
    assert (refused.value.code, refused.value.params) == (
        "months",
        {"months": 2, "needed": 6},
    )
    many = [day + timedelta(days=n) for n in range(300)]
    with pytest.raises(L.TooShort) as refused:
        L.check_history(many, np.array([1] * 5 + [0] * 295), 1, 6)
    assert refused.value.code == "late"
    with pytest.raises(L.TooShort) as refused:
        L.check_history(many, np.array([1] * 295 + [0] * 5), 1, 6)
    assert refused.value.code == "on_time"
    L.check_history(many, np.array([1] * 150 + [0] * 150), 300, 6)


def _mutate_after(history, day, rng):
    """A copy of ``history`` where everything dated ``day`` or later is
    changed: later invoices, payments made from ``day`` on, auto-pay results,
    promises and upgrades from ``day`` on (added, removed, moved)."""
    h = copy.deepcopy(history)
    for inv in h["invoices"]:
        if inv["date"] >= day:
            inv["amount"] = rng.uniform(1, 20000)
            inv["due"] = inv["date"] + timedelta(days=rng.randint(0, 40))
            inv["paid"] = rng.choice([None, inv["date"] + timedelta(days=5)])
        elif inv["paid"] is None or inv["paid"] >= day:
            inv["paid"] = rng.choice(
                [None, day, day + timedelta(days=rng.randint(1, 90))]
            )
    h["invoices"].append(
        {
            "id": -1,
            "date": day + timedelta(days=3),
            "due": day + timedelta(days=4),
            "amount": 1.0,
            "paid": None,
        }
    )
    h["autopay"] = [a for a in h["autopay"] if a[0] < day] + [
        (day + timedelta(days=k), rng.random() < 0.5) for k in range(3)
    ]
    h["promises"] = [p for p in h["promises"] if p[1] < day] + [
        (day, day + timedelta(days=7)),
        (day - timedelta(days=2), day + timedelta(days=1)),
    ]
    h["upgrades"] = [u for u in h["upgrades"] if u < day] + [day]
    return h


def test_features_know_nothing_after_the_issue_date():
    """Leakage: changing anything that happened on or after an invoice's
    issue date leaves its features unchanged; changing a payment before it
    changes them (the check can fail)."""
    rng = random.Random(11)
    histories = sim.simulate(300, seed=11)
    checked = sensitive = 0
    for history in histories:
        for inv in history["invoices"][1:]:
            before = F.features(history, inv, 0)
            mutated = _mutate_after(history, inv["date"], rng)
            same = next(i for i in mutated["invoices"] if i["id"] == inv["id"])
            frozen = dict(same, amount=inv["amount"], due=inv["due"])
            assert F.features(mutated, frozen, 0) == before, (history["id"], inv)
            checked += 1
            earlier = copy.deepcopy(history)
            first = earlier["invoices"][0]
            if first["paid"] and first["paid"] < inv["date"]:
                first["paid"] = first["due"] + timedelta(days=30)
                if first["paid"] < inv["date"]:
                    sensitive += F.features(earlier, inv, 0) != before
    assert checked > 3000
    assert sensitive > 100


def test_features_of_a_history_by_hand():
    """Invoices of the 5th due the 20th: January paid the 8th, February the
    28th (late), March unpaid; April's invoice as of 5 April: 3 known (March
    is past its due date unpaid), 2 late, one open overdue; the auto-pay
    failure of 1 April (not that of the 5th); a promise of 22-29 March that
    covered March's invoice (January and February were paid before it),
    still unpaid: broken; an upgrade 6 days before."""
    d = date
    history = {
        "id": 1,
        "start": d(2026, 1, 1),
        "invoices": [
            {
                "id": 1,
                "date": d(2026, 1, 5),
                "due": d(2026, 1, 20),
                "amount": 1000.0,
                "paid": d(2026, 1, 8),
            },
            {
                "id": 2,
                "date": d(2026, 2, 5),
                "due": d(2026, 2, 20),
                "amount": 1000.0,
                "paid": d(2026, 2, 28),
            },
            {
                "id": 3,
                "date": d(2026, 3, 5),
                "due": d(2026, 3, 20),
                "amount": 1000.0,
                "paid": None,
            },
            {
                "id": 4,
                "date": d(2026, 4, 5),
                "due": d(2026, 4, 20),
                "amount": 2000.0,
                "paid": None,
            },
        ],  # fmt: skip
        "autopay": [(d(2026, 4, 1), True), (d(2026, 4, 5), True)],
        "promises": [(d(2026, 3, 22), d(2026, 3, 29))],
        "upgrades": [d(2026, 3, 30)],
    }
    f = dict(
        zip(F.FEATURES, F.features(history, history["invoices"][3], 0), strict=True)
    )
    assert f["n_known"] == 3
    assert f["late_rate"] == pytest.approx(2 / 3)
    assert f["last_late"] == 1.0
    assert (f["late_last6"], f["n_last6"]) == (2.0, 3.0)
    # days after the due date: -12, +8, and March unpaid 16 days after it
    assert f["days_late_last6"] == pytest.approx((-12 + 8 + 16) / 3)
    assert f["open_overdue"] == 1.0
    assert f["salary_share"] == 0.5  # paid the 8th and the 28th: one of two
    assert f["autopay_fail_30"] == 1.0  # the 5 April failure is not before
    assert f["promises_kept_180"] == 0.0  # covered February and March
    assert f["promises_broken_180"] == 1.0  # March unpaid by the 29th
    assert f["days_since_upgrade"] == 6.0
    assert f["amount_ratio"] == 2.0
    assert f["tenure_days"] == 94.0


def test_top_share_and_calibration_by_hand():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    # top 10 % = one invoice, the late one: half of the late ones caught
    assert L.top_share(y, p) == 0.5
    # ties at the cut: the top one of ten is any of ten equal scores
    assert L.top_share(y, np.full(10, 0.3)) == pytest.approx(0.1)
    rows, error = L.calibration_table(y, p)
    assert [(r[2], r[4]) for r in rows] == [(7, 1 / 7), (2, 0.0), (1, 1.0)]
    # |0.1 - 1/7| x 7 + |0.5 - 0| x 2 + |0.9 - 1| x 1, over 10
    assert error == pytest.approx((abs(0.1 - 1 / 7) * 7 + 1.0 + 0.1) / 10)


def test_curves_match_scikit_learn_with_ties():
    """The bootstrap's own PR-AUC and ROC-AUC (fast, numpy) equal
    scikit-learn's, ties included."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(4)
    for __ in range(20):
        y = rng.integers(0, 2, 300)
        p = np.round(rng.random(300) * (1 + 0.4 * y), 1)
        assert L.average_precision(y, p) == pytest.approx(average_precision_score(y, p))
        assert L.roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_a_resample_weighted_by_counts_has_the_resample_metrics():
    """The bootstrap scores a resample as counts over rows sorted once: the
    figures of the resample itself (rows repeated), ties and empty classes
    included; PR-AUC, ROC-AUC and top 10 % exactly, Brier and calibration
    error to the last bits of their sums."""
    rng = np.random.default_rng(3)
    for n in range(300):
        size = int(rng.integers(5, 300))
        y = rng.integers(0, 2, size) if n % 7 else np.zeros(size, dtype=int)
        p = np.round(rng.random(size) * (1 + 0.4 * y), int(rng.integers(1, 3)))
        counts = rng.integers(0, 3, size)
        if not counts.sum():
            continue
        rows = np.repeat(np.arange(size), counts)
        expected = L.metrics(y[rows], p[rows])
        got = L._Ranked(y, p).metrics(counts)
        for key, value in expected.items():
            if np.isnan(value):
                assert np.isnan(got[key]), key
            elif key in ("pr_auc", "roc_auc", "top10"):
                assert got[key] == value, key
            else:
                assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
