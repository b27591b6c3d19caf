# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-risk engine as a service model: reads the histories
set-based (a few SQL statements per batch of subscriptions), computes the
features with the pure functions of ``riskcore`` and trains or scores."""

import base64
import contextlib
import hashlib
import json
import logging
import math
import time
from datetime import timedelta

import numpy as np
import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import config

from ..riskcore import features as F
from ..riskcore import learn as L

_logger = logging.getLogger(__name__)

BATCH = 2000  # subscriptions read at once
STEP_INVOICES = 20000  # invoices read by one step of the training job
WINDOW_MONTHS = 24  # the training data window
HOLDOUT_DAYS = 91  # the evaluation's hold-out: the last three months
SEED = 0


def _json_safe(value):
    """``value`` as JSON PostgreSQL accepts: tuples as lists, NaN as null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


class IspPaymentRiskService(models.AbstractModel):
    _name = "isp.payment.risk.service"
    _description = "Payment-risk engine"

    # === extraction === #

    @api.model
    def _subscription_ids(self, company):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM isp_subscription WHERE company_id = %s ORDER BY id",
            [company.id],
        )
        return [r[0] for r in self.env.cr.fetchall()]

    @contextlib.contextmanager
    def _batch_settings(self):
        """PostgreSQL's settings for the statements that read a batch of
        histories, restored after them: no JIT compiling (a statement of
        many joins run once per batch: compiling it costs seconds, more
        than it saves), and room for a batch's sorts in memory."""
        cr = self.env.cr
        cr.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        jit, work_mem = cr.fetchone()
        cr.execute(
            "SELECT set_config('jit', 'off', true),"
            " set_config('work_mem', '64MB', true)"
        )
        try:
            yield
        finally:
            cr.execute(
                "SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)",
                [jit, work_mem],
            )

    @api.model
    def _histories(self, sub_ids):
        """The plain histories (``riskcore.features``) of ``sub_ids``: their
        posted customer invoices (the day each was settled, as *ISP →
        Reporting → Invoices paid* defines it), auto-pay charges, promises to
        pay and upgrades. ``{sub_id: history}``."""
        if not sub_ids:
            return {}
        cr = self.env.cr
        ids = tuple(sub_ids)
        cr.execute(
            "SELECT id, date_start, create_date::date FROM isp_subscription"
            " WHERE id IN %s",
            [ids],
        )
        histories = {
            sid: {
                "id": sid,
                "start": start or created,
                "invoices": [],
                "autopay": [],
                "promises": [],
                "upgrades": [],
            }
            for sid, start, created in cr.fetchall()
        }
        date_paid = self.env["isp.report.collections.invoice"]._date_paid_join()
        with self._batch_settings():
            cr.execute(
                f"""
            SELECT link.sub, move.id, move.invoice_date, move.invoice_date_due,
                   move.amount_total_signed, paid.date_paid
              FROM (SELECT DISTINCT line.move_id, line.isp_subscription_id AS sub
                      FROM account_move_line line
                     WHERE line.isp_subscription_id IN %s) link
              JOIN account_move move ON move.id = link.move_id
              {date_paid}
             WHERE move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.payment_state != 'reversed'
               AND move.invoice_date IS NOT NULL
             ORDER BY link.sub, move.invoice_date, move.id
            """,
                [ids],
            )
            invoices = cr.fetchall()
        for sub, move_id, day, due, amount, paid in invoices:
            histories[sub]["invoices"].append(
                {
                    "id": move_id,
                    "date": day,
                    "due": due or day,
                    "amount": float(amount),
                    "paid": paid,
                }
            )
        cr.execute(
            """
            SELECT subscription_id, scheduled_date, state = 'failed'
              FROM isp_autopay_attempt
             WHERE subscription_id IN %s AND state IN ('done', 'failed')
             ORDER BY subscription_id, scheduled_date, id
            """,
            [ids],
        )
        for sub, day, failed in cr.fetchall():
            histories[sub]["autopay"].append((day, failed))
        cr.execute(
            """
            SELECT subscription_id, event_type, event_date, promise_until
              FROM isp_subscription_event
             WHERE subscription_id IN %s
               AND (event_type = 'upgrade'
                    OR (event_type = 'promise' AND promise_until IS NOT NULL))
             ORDER BY subscription_id, event_date, id
            """,
            [ids],
        )
        for sub, kind, day, until in cr.fetchall():
            if kind == "upgrade":
                histories[sub]["upgrades"].append(day)
            else:
                histories[sub]["promises"].append((day, until))
        return histories

    # === training === #

    @api.model
    def _next_subscriptions(self, company, after, invoices):
        """The company's next subscriptions after id ``after`` (keyset, by id)
        whose invoices add up to at most ``invoices`` (at least one
        subscription, however many invoices it has), at most :data:`BATCH`."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT nxt.id,
                   (SELECT COUNT(DISTINCT l.move_id) FROM account_move_line l
                     WHERE l.isp_subscription_id = nxt.id)
              FROM (SELECT id FROM isp_subscription
                     WHERE company_id = %s AND id > %s
                     ORDER BY id LIMIT %s) nxt
             ORDER BY nxt.id
            """,
            [company.id, after, BATCH],
        )
        picked, total = [], 0
        for sub_id, count in self.env.cr.fetchall():
            if picked and total + count > invoices:
                break
            picked.append(sub_id)
            total += count
        return picked, total

    @api.model
    def _rows(self, sub_ids, grace, as_of):
        """The training rows of ``sub_ids`` as of ``as_of`` (features,
        labels, days to pay, issue dates, subscriptions), the subscriptions
        in the order of their ids, each one's invoices in date order: the
        same rows in the same order however the subscriptions are batched.

        Set-based: one SQL statement (:meth:`_feature_query`) gives each
        training invoice its counts over its subscription's earlier
        invoices, auto-pay results, promises and upgrades; the features are
        then those counts' ratios, column by column. The same figures, bit
        for bit, as ``riskcore.features.labelled_rows`` over
        :meth:`_histories` (tested)."""
        date_from = as_of - relativedelta(months=WINDOW_MONTHS)
        rows = []
        if sub_ids:
            with self._batch_settings():
                self.env.cr.execute(
                    self._feature_query(),
                    {
                        "ids": tuple(sub_ids),
                        "grace": grace,
                        "as_of": as_of,
                        "date_from": date_from,
                    },
                )
                rows = self.env.cr.fetchall()
        self.env.invalidate_all()
        return self._feature_arrays(rows)

    @api.model
    def _feature_query(self):
        """The SQL of :meth:`_rows`: one row per training invoice (issued
        from ``date_from``, due plus ``grace`` before ``as_of``) of the
        subscriptions ``ids``, by subscription and date: ``sub, date, late,
        days to pay`` and the counts of :meth:`_feature_arrays`, each as of
        the invoice's issue date (README, rule 2), as
        ``riskcore.features.features`` computes them."""
        date_paid = self.env["isp.report.collections.invoice"]._date_paid_join()
        return f"""
            WITH inv AS (
                SELECT link.sub, move.id, move.invoice_date AS day,
                       COALESCE(move.invoice_date_due, move.invoice_date) AS due,
                       move.amount_total_signed::float8 AS amount,
                       paid.date_paid AS paid
                  FROM (SELECT DISTINCT line.move_id,
                               line.isp_subscription_id AS sub
                          FROM account_move_line line
                         WHERE line.isp_subscription_id IN %(ids)s) link
                  JOIN account_move move ON move.id = link.move_id
                  {date_paid}
                 WHERE move.move_type = 'out_invoice'
                   AND move.state = 'posted'
                   AND move.payment_state != 'reversed'
                   AND move.invoice_date IS NOT NULL
            ), target AS (
                SELECT * FROM inv
                 WHERE day >= %(date_from)s AND due + %(grace)s < %(as_of)s
            ), pair AS (
                -- each target's earlier invoices, late or not as known on
                -- its issue date (NULL: not known yet)
                SELECT t.sub, t.id AS tid, t.day AS tday, t.due AS tdue,
                       p.id, p.day, p.due, p.paid, p.amount,
                       CASE WHEN p.paid < t.day THEN p.paid > p.due + %(grace)s
                            WHEN t.day > p.due + %(grace)s THEN TRUE
                       END AS late
                  FROM target t
                  JOIN inv p ON p.sub = t.sub AND p.day < t.day AND p.id != t.id
            ), ranked AS (
                SELECT pair.*,
                       -- 1 for the latest earlier invoice (known or not)
                       row_number() OVER latest AS back,
                       -- of a known one: 1 for the latest known, 2 for the
                       -- one before, ...
                       COUNT(late) OVER latest AS back_known
                  FROM pair
                WINDOW latest AS (PARTITION BY tid ORDER BY day DESC, id DESC
                                  ROWS UNBOUNDED PRECEDING)
            ), earlier AS (
                SELECT tid,
                       COUNT(*) FILTER (WHERE late IS NOT NULL) AS n_known,
                       COUNT(*) FILTER (WHERE late) AS n_late,
                       MAX(late::int) FILTER (WHERE late IS NOT NULL
                                                AND back_known = 1) AS last_late,
                       COUNT(*) FILTER (WHERE late AND back_known <= 6) AS late6,
                       COUNT(*) FILTER (WHERE late IS NOT NULL
                                          AND back_known <= 6) AS n6,
                       SUM(CASE WHEN paid < tday THEN paid - due ELSE tday - due END)
                           FILTER (WHERE late IS NOT NULL AND back_known <= 6)
                           AS days6,
                       COUNT(*) FILTER (WHERE late IS NOT NULL
                                          AND (paid IS NULL OR paid >= tday))
                           AS open_overdue,
                       COUNT(*) FILTER (WHERE late IS NOT NULL AND paid < tday)
                           AS n_paid,
                       COUNT(*) FILTER (WHERE late IS NOT NULL AND paid < tday
                                          AND (EXTRACT(DAY FROM paid) >= 25
                                               OR EXTRACT(DAY FROM paid) <= 5))
                           AS n_salary,
                       (ARRAY_AGG(late::int ORDER BY back_known)
                          FILTER (WHERE late IS NOT NULL
                                    AND EXTRACT(MONTH FROM due)
                                        = EXTRACT(MONTH FROM tdue)
                                    AND tdue - due BETWEEN 300 AND 430))[1]
                           AS same_month_ly,
                       MAX(amount) FILTER (WHERE back = 1) AS previous_amount
                  FROM ranked
                 GROUP BY tid
            ), promise AS (
                -- kept: every invoice it covered settled by its last day;
                -- NULL: it covered none
                SELECT e.id, e.subscription_id AS sub, e.promise_until AS until,
                       BOOL_AND(i.paid IS NOT NULL AND i.paid <= e.promise_until)
                           AS kept
                  FROM isp_subscription_event e
                  JOIN inv i ON i.sub = e.subscription_id
                            AND i.day <= e.event_date
                            AND i.due <= e.promise_until
                            AND (i.paid IS NULL OR i.paid >= e.event_date)
                 WHERE e.subscription_id IN %(ids)s
                   AND e.event_type = 'promise' AND e.promise_until IS NOT NULL
                 GROUP BY e.id, e.subscription_id, e.promise_until
            ), promises AS (
                SELECT t.id AS tid,
                       COUNT(*) FILTER (WHERE NOT p.kept) AS broken,
                       COUNT(*) FILTER (WHERE p.kept) AS kept
                  FROM target t
                  JOIN promise p ON p.sub = t.sub AND p.until < t.day
                                AND p.until >= t.day - 180
                 GROUP BY t.id
            ), autopay AS (
                SELECT t.id AS tid,
                       COUNT(*) FILTER (WHERE a.scheduled_date >= t.day - 45)
                           AS recent,
                       COUNT(*) FILTER (WHERE a.state = 'failed'
                                          AND a.scheduled_date >= t.day - 30)
                           AS fail30,
                       COUNT(*) FILTER (WHERE a.state = 'failed') AS fail90
                  FROM target t
                  JOIN isp_autopay_attempt a
                    ON a.subscription_id = t.sub
                   AND a.scheduled_date < t.day
                   AND a.scheduled_date >= t.day - 90
                 WHERE a.subscription_id IN %(ids)s
                   AND a.state IN ('done', 'failed')
                 GROUP BY t.id
            ), upgrade AS (
                SELECT t.id AS tid, LEAST(t.day - MAX(u.event_date), 999) AS days
                  FROM target t
                  JOIN isp_subscription_event u
                    ON u.subscription_id = t.sub AND u.event_date < t.day
                 WHERE u.subscription_id IN %(ids)s AND u.event_type = 'upgrade'
                 GROUP BY t.id, t.day
            )
            SELECT t.sub, t.day, t.due, t.amount,
                   NOT COALESCE(t.paid < %(as_of)s
                                AND t.paid <= t.due + %(grace)s, FALSE) AS late,
                   CASE WHEN t.paid < %(as_of)s THEN t.paid ELSE %(as_of)s END
                       - t.day AS days_to_pay,
                   COALESCE(e.n_known, 0), COALESCE(e.n_late, 0),
                   COALESCE(e.last_late, -1), COALESCE(e.late6, 0),
                   COALESCE(e.n6, 0), COALESCE(e.days6, 0),
                   COALESCE(e.open_overdue, 0), COALESCE(e.n_paid, 0),
                   COALESCE(e.n_salary, 0), COALESCE(e.same_month_ly, -1),
                   COALESCE(e.previous_amount, 0),
                   COALESCE(ap.recent, 0), COALESCE(ap.fail30, 0),
                   COALESCE(ap.fail90, 0), COALESCE(pr.broken, 0),
                   COALESCE(pr.kept, 0), COALESCE(u.days, 999),
                   GREATEST(t.day - COALESCE(s.date_start, s.create_date::date), 0)
              FROM target t
              JOIN isp_subscription s ON s.id = t.sub
              LEFT JOIN earlier e ON e.tid = t.id
              LEFT JOIN autopay ap ON ap.tid = t.id
              LEFT JOIN promises pr ON pr.tid = t.id
              LEFT JOIN upgrade u ON u.tid = t.id
             ORDER BY t.sub, t.day, t.id
        """

    @api.model
    def _feature_arrays(self, rows):
        """The arrays of :meth:`_rows` from the rows of
        :meth:`_feature_query`: the features in ``riskcore.features.FEATURES``
        order, computed as ``riskcore.features.features`` does (the same
        divisions of the same integers, so the same floats)."""
        n = len(rows)
        cols = list(zip(*rows, strict=True)) if rows else [()] * 24
        (sub, day, due, amount, late, days, n_known, n_late, last_late, late6, n6,
         days6, open_overdue, n_paid, n_salary, same_month_ly, previous, autopay45,
         fail30, fail90, broken, kept, upgrade, tenure) = cols  # fmt: skip

        def column(values):
            return np.array(values, dtype=np.float64).reshape(n)

        def ratio(num, den, empty):
            num, den = column(num), column(den)
            out = np.full(n, empty)
            np.divide(num, den, out=out, where=den != 0)
            return out

        amounts = column(amount)
        previous = column(previous)
        ratios = np.ones(n)
        np.divide(amounts, previous, out=ratios, where=previous > 0)
        X = np.empty((n, len(F.FEATURES)), dtype=np.float64)
        X[:, F.INDEX["n_known"]] = column(n_known)
        X[:, F.INDEX["late_rate"]] = ratio(n_late, n_known, 0.0)
        X[:, F.INDEX["last_late"]] = column(last_late)
        X[:, F.INDEX["late_last6"]] = column(late6)
        X[:, F.INDEX["n_last6"]] = column(n6)
        X[:, F.INDEX["days_late_last6"]] = ratio(days6, n6, 0.0)
        X[:, F.INDEX["open_overdue"]] = column(open_overdue)
        X[:, F.INDEX["due_day"]] = column([d.day for d in due])
        X[:, F.INDEX["salary_share"]] = ratio(n_salary, n_paid, -1.0)
        X[:, F.INDEX["due_month"]] = column([d.month for d in due])
        X[:, F.INDEX["late_same_month_ly"]] = column(same_month_ly)
        X[:, F.INDEX["autopay_recent"]] = column(autopay45)
        X[:, F.INDEX["autopay_fail_30"]] = column(fail30)
        X[:, F.INDEX["autopay_fail_90"]] = column(fail90)
        X[:, F.INDEX["promises_broken_180"]] = column(broken)
        X[:, F.INDEX["promises_kept_180"]] = column(kept)
        X[:, F.INDEX["days_since_upgrade"]] = column(upgrade)
        X[:, F.INDEX["amount_ratio"]] = ratios
        X[:, F.INDEX["tenure_days"]] = column(tenure)
        X[:, F.INDEX["log_amount"]] = column([math.log1p(max(a, 0.0)) for a in amount])
        return (
            X,
            np.array(late, dtype=np.int8).reshape(n),
            np.array(days, dtype=float).reshape(n),
            np.array(day, dtype="datetime64[D]").reshape(n),
            np.array(sub, dtype=np.int64).reshape(n),
        )

    @api.model
    def _concat(self, parts):
        if not parts:
            return self._rows([], 0, fields.Date.today())
        return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))

    @api.model
    def _training_rows(self, company, as_of):
        """Every training row of ``company`` as of ``as_of``, read by steps of
        :data:`STEP_INVOICES` invoices (not stored: see :meth:`_train_step`)."""
        grace = company.isp_risk_grace_days
        parts, after = [], 0
        while True:
            sub_ids, __ = self._next_subscriptions(company, after, STEP_INVOICES)
            if not sub_ids:
                return self._concat(parts)
            parts.append(self._rows(sub_ids, grace, as_of))
            after = sub_ids[-1]

    @api.model
    def _train(self, company, as_of):
        """Train ``company``'s model on its history as of ``as_of`` in one go
        (the steps of :meth:`_train_step` one after the other): a new
        version (in use), or a *Not trained* record saying why. Scores
        nothing (see :meth:`_score`)."""
        model = self._train_start(company, as_of)
        while model.state == "training":
            self._train_step(model)
        return model

    @api.model
    def _train_start(self, company, as_of):
        """A new version of ``company``'s model, *In training*, its history
        as of ``as_of`` and the company's grace days of today."""
        Model = self.env["isp.payment.risk.model"].sudo()
        version = (
            Model.search(
                [("company_id", "=", company.id)], order="version desc", limit=1
            ).version
            + 1
        )
        return Model.create(
            {
                "company_id": company.id,
                "version": version,
                "state": "training",
                "phase": "extract",
                "as_of": as_of,
                "grace_days": company.isp_risk_grace_days,
                "resume_after": 0,
            }
        )

    @api.model
    def _train_step(self, model, invoices=None, seconds=None):
        """One bounded step of the training ``model`` (*In training*), which
        resumes where the previous step stopped (README, rule 12):

        * ``extract``: the next subscriptions (by id, after the last one
          read) up to ``invoices`` invoices (:data:`STEP_INVOICES`), read in
          batches of :data:`BATCH`, until ``seconds`` have passed: their rows
          are stored as a part; none left: the next phase;
        * ``evaluate``: the history checked (rule 4) and the evaluation on
          the hold-out months (rule 5), its figures stored;
        * ``fit``: the kept score fitted on every row and stored (rules 6,
          7): the version is *In use*, the parts deleted.

        The work done: subscriptions read, or 1."""
        model = model.sudo()
        company = model.company_id
        invoices = invoices or self._step_invoices()
        seconds = seconds or self._step_seconds()
        if model.phase == "extract":
            started = time.monotonic()
            read, budget, parts = 0, invoices, []
            while budget > 0 and time.monotonic() - started < seconds:
                sub_ids, count = self._next_subscriptions(
                    company, model.resume_after, budget
                )
                if not sub_ids:
                    break
                parts.append(self._rows(sub_ids, model.grace_days, model.as_of))
                model.resume_after = sub_ids[-1]
                read += len(sub_ids)
                budget -= max(count, 1)
            if read:
                self._store_part(model, self._concat(parts))
                model.subscriptions_read += read
                return read
            model.phase = "evaluate"
        X, y, days, dates, groups = self._load_parts(model)
        if model.phase == "evaluate":
            return self._train_evaluate(model, X, y, days, dates, groups)
        return self._train_fit(model, X, y, days)

    @api.model
    def _step_invoices(self):
        """Invoices read by a step: the system parameter
        ``isp_payment_risk.train_step_invoices``, :data:`STEP_INVOICES` by
        default."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("isp_payment_risk.train_step_invoices")
        )
        try:
            return max(int(value), 1) if value else STEP_INVOICES
        except ValueError:
            return STEP_INVOICES

    @api.model
    def _step_seconds(self):
        """A step's time: a twelfth of the cron time limit (Odoo runs up to 10
        steps in a row within it), at least 5 seconds."""
        limit = config.get("limit_time_real_cron") or 0
        if limit <= 0:
            limit = config.get("limit_time_real") or 120
        return max(5.0, limit / 12)

    @api.model
    def _store_part(self, model, arrays):
        Part = self.env["isp.payment.risk.model.part"]
        self.env.cr.execute(
            """
            INSERT INTO isp_payment_risk_model_part
                (model_id, sequence, row_count, data, create_uid, write_uid,
                 create_date, write_date)
            SELECT %(model)s, COALESCE(MAX(sequence), 0) + 1, %(rows)s, %(data)s,
                   %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM isp_payment_risk_model_part WHERE model_id = %(model)s
            """,
            {
                "model": model.id,
                "rows": len(arrays[1]),
                "data": psycopg2.Binary(Part._pack(arrays)),
                "uid": self.env.uid,
            },
        )

    @api.model
    def _load_parts(self, model):
        """The rows of ``model``'s parts, in the order they were read."""
        Part = self.env["isp.payment.risk.model.part"]
        cr = self.env.cr
        cr.execute(
            "SELECT id FROM isp_payment_risk_model_part WHERE model_id = %s"
            " ORDER BY sequence",
            [model.id],
        )
        parts = []
        for (part_id,) in cr.fetchall():
            cr.execute(
                "SELECT data FROM isp_payment_risk_model_part WHERE id = %s", [part_id]
            )
            parts.append(Part._unpack(bytes(cr.fetchone()[0])))
        return self._concat(parts)

    @api.model
    def _train_evaluate(self, model, X, y, days, dates, groups):
        company = model.company_id
        vals = {
            "invoice_count": len(y),
            "late_share": float(y.mean()) if len(y) else 0.0,
        }
        if len(y):
            vals.update(
                date_from=dates.min().astype(object), date_to=dates.max().astype(object)
            )
        try:
            if not len(y):
                raise L.TooShort(
                    "invoices", count=0, needed=company.isp_risk_min_invoices
                )
            L.check_history(
                dates.astype(object),
                y,
                company.isp_risk_min_invoices,
                company.isp_risk_min_months,
            )
        except L.TooShort as refusal:
            model.write(
                {
                    **vals,
                    "state": "refused",
                    "phase": False,
                    "train_date": fields.Datetime.now(),
                    "refusal_data": {"code": refusal.code, **refusal.params},
                }
            )
            model.part_ids.unlink()
            return 1
        report = L.evaluation(X, y, days, dates, groups, SEED, HOLDOUT_DAYS)
        model.write(
            {
                **vals,
                "phase": "fit",
                "kind": report["kind"],
                "holdout_count": report["n_test"],
                "report": _json_safe(report),
                **self._headline(report),
            }
        )
        return 1

    @api.model
    def _train_fit(self, model, X, y, days):
        scorer = L.fit_kept(model.kind, X, y, days, SEED)
        blob = scorer.dumps()
        model.write(
            {
                "state": "ready",
                "phase": False,
                "train_date": fields.Datetime.now(),
                "checksum": hashlib.sha256(blob).hexdigest(),
                "scorer_file": base64.b64encode(blob),
            }
        )
        model.attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", model._name),
                    ("res_id", "=", model.id),
                    ("res_field", "=", "scorer_file"),
                ],
                limit=1,
            )
        )
        model.attachment_id.name = (
            f"payment-risk-{model.company_id.id}-v{model.version}.pickle"
        )
        model.part_ids.unlink()
        model.search(
            [
                ("company_id", "=", model.company_id.id),
                ("state", "=", "ready"),
                ("id", "!=", model.id),
            ]
        ).state = "replaced"
        return 1

    @api.model
    def _headline(self, report):
        figures, intervals = report["figures"], report["intervals"]
        best = report["best_baseline"]
        values = {
            "pr_auc": figures["model"]["pr_auc"],
            "pr_auc_low": intervals["model"]["pr_auc"][0],
            "pr_auc_high": intervals["model"]["pr_auc"][1],
            "roc_auc": figures["model"]["roc_auc"],
            "brier": figures["model"]["brier"],
            "calibration_error": figures["model"]["ece"],
            "top10": figures["model"]["top10"],
            "baseline": best,
            "baseline_pr_auc": figures[best]["pr_auc"],
            "baseline_pr_auc_low": intervals[best]["pr_auc"][0],
            "baseline_pr_auc_high": intervals[best]["pr_auc"][1],
        }
        return {
            key: value if isinstance(value, str) or math.isfinite(value) else 0.0
            for key, value in values.items()
        }

    @api.model
    def _load(self, model):
        """The stored scorer of ``model``, after checking its checksum."""
        blob = base64.b64decode(model.attachment_id.sudo().datas or b"")
        if hashlib.sha256(blob).hexdigest() != model.checksum:
            raise ValueError(f"payment-risk model {model.id}: checksum mismatch")
        return L.Scorer.loads(blob)

    # === scoring === #

    @api.model
    def _score(self, company, today):
        """Score ``company``'s open invoices and running subscriptions with its
        model in use (or record why there is no score). Writes only the risk
        fields: nothing is sent, suspended, throttled or charged."""
        model = self.env["isp.payment.risk.model"].sudo()._current(company)
        scorer = self._load(model) if model.state == "ready" else None
        grace = company.isp_risk_grace_days
        sub_ids = self._open_subscription_ids(company)
        done = 0
        for start in range(0, len(sub_ids), BATCH):
            batch = sub_ids[start : start + BATCH]
            histories = self._histories(batch)
            open_ids = self._open_invoice_ids(batch)
            invoice_rows, sub_rows = [], []
            for history in histories.values():
                for inv in history["invoices"]:
                    if inv["id"] in open_ids:
                        invoice_rows.append((inv, history))
                nxt = F.next_invoice(history, today)
                if nxt:
                    sub_rows.append((nxt, history))
            invoice_values = self._score_rows(scorer, invoice_rows, grace, today)
            sub_values = self._score_rows(scorer, sub_rows, grace, today)
            self._write_scores(
                "account_move",
                [
                    (inv["id"], v)
                    for (inv, __), v in zip(invoice_rows, invoice_values, strict=True)
                ],
                model,
                today,
            )
            self._write_scores(
                "isp_subscription",
                [(h["id"], v) for (__, h), v in zip(sub_rows, sub_values, strict=True)],
                model,
                today,
            )
            done += len(invoice_rows)
            self.env.invalidate_all()
        return done

    @api.model
    def _open_subscription_ids(self, company):
        self.env.flush_all()
        # the running subscriptions, and those with an open invoice (read
        # from the open invoices: a few, not every invoice line)
        self.env.cr.execute(
            """
            SELECT s.id
              FROM isp_subscription s
             WHERE s.company_id = %(company)s
               AND s.state IN ('active', 'suspended')
             UNION
            SELECT s.id
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
              JOIN isp_subscription s ON s.id = l.isp_subscription_id
             WHERE s.company_id = %(company)s
               AND m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
             ORDER BY 1
            """,
            {"company": company.id},
        )
        return [r[0] for r in self.env.cr.fetchall()]

    @api.model
    def _open_invoice_ids(self, sub_ids):
        """Ids of the open (posted, unpaid or partly paid) customer invoices of
        ``sub_ids``."""
        self.env.cr.execute(
            """
            SELECT DISTINCT m.id
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
             WHERE l.isp_subscription_id IN %s
               AND m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
            """,
            [tuple(sub_ids)],
        )
        return {r[0] for r in self.env.cr.fetchall()}

    @api.model
    def _score_rows(self, scorer, rows, grace, today):
        """``(probability, days, reasons)`` of each ``(invoice, history)``,
        or ``None`` each when there is no scorer. An invoice already unpaid past
        its due date plus grace is late for sure: probability 1."""
        if scorer is None or not rows:
            return [None] * len(rows)
        X = L.to_matrix([F.features(h, inv, grace) for inv, h in rows])
        probabilities = scorer.probability(X)
        days = scorer.days_to_pay(X)
        reasons = scorer.explain(X, probabilities)
        out = []
        for i, (inv, __) in enumerate(rows):
            p, d, why = float(probabilities[i]), float(days[i]), reasons[i]
            if inv["id"] is not None and today > inv["due"] + timedelta(days=grace):
                p, why = 1.0, [("overdue", {}), *why]
            if inv["id"] is not None:
                d = max(d, float((today - inv["date"]).days))
            out.append((p, int(round(d)), [[g, params] for g, params in why]))
        return out

    @api.model
    def _write_scores(self, table, values, model, today):
        """Write the risk columns of ``table`` in one statement per batch."""
        if not values:
            return
        cr = self.env.cr
        rows = []
        for rid, value in values:
            if value is None:
                rows.append(cr.mogrify("(%s, 'none', 0.0, 0, NULL)", [rid]).decode())
            else:
                p, d, why = value
                rows.append(
                    cr.mogrify(
                        "(%s, 'scored', %s, %s, %s)", [rid, p, d, json.dumps(why)]
                    ).decode()
                )
        amount = (
            ", isp_risk_amount = CASE WHEN v.state = 'scored'"
            " THEN ROUND((v.p * t.amount_residual_signed)::numeric, 2) ELSE 0 END"
            if table == "account_move"
            else ""
        )
        values = ",".join(rows).replace("%", "%%")  # literal, not placeholders
        cr.execute(
            f"""
            UPDATE {table} t
               SET isp_risk_state = v.state, isp_risk_probability = v.p,
                   isp_risk_days = v.d, isp_risk_reason_data = v.why::jsonb,
                   isp_risk_model_id = %s, isp_risk_date = %s {amount}
              FROM (VALUES {values}) AS v(id, state, p, d, why)
             WHERE t.id = v.id
            """,  # noqa: S608 - table is ours, values are mogrified
            [model.id or None, today],
            # a row changed by another job since this one began is refused:
            # _cron_score handles it (no "bad query" error in the log)
            log_exceptions=False,
        )

    # === jobs === #

    @api.model
    def _companies(self):
        self.env.cr.execute("SELECT DISTINCT company_id FROM isp_subscription")
        return self.env["res.company"].browse(r[0] for r in self.env.cr.fetchall())

    @api.model
    def _cron_train(self, date_ref=None):
        """*ISP: train the payment-risk model* (weekly), one bounded step per
        call (README, rule 12): the first company with a training in
        progress goes on with it; else the first company not trained on
        that day starts one. Reports its progress to Odoo, which calls the
        job again at once while some is left; a version that ends triggers
        the scoring job."""
        Model = self.env["isp.payment.risk.model"].sudo()
        done = 0
        pending = []
        for company in self._companies():
            today = date_ref or fields.Date.context_today(self.with_company(company))
            model = Model._in_training(company)
            if not model and not Model.search_count(
                [("company_id", "=", company.id), ("as_of", "=", today)]
            ):
                if done:
                    pending.append((company, None))
                    continue
                model = self.with_company(company)._train_start(company, today)
            if not model:
                continue
            if done:
                pending.append((company, model))
                continue
            done = self.with_company(company)._train_step(model)
            if model.state != "training":
                _logger.info(
                    "Payment risk: company %s, version %s, %s",
                    company.id,
                    model.version,
                    model.state,
                )
                cron = self.env.ref(
                    "isp_payment_risk.ir_cron_isp_payment_risk_score",
                    raise_if_not_found=False,
                )
                if cron:
                    cron._trigger()
            else:
                pending.append((company, model))
        self.env["ir.cron"]._notify_progress(
            done=done, remaining=sum(self._train_remaining(c, m) for c, m in pending)
        )
        return True

    @api.model
    def _train_remaining(self, company, model):
        """The work left of ``company``'s training ``model`` (a new one when
        empty), in :meth:`_train_step`'s units: subscriptions to read, and
        1 for each phase after."""
        if model and model.phase != "extract":
            return 1 if model.phase == "fit" else 2
        self.env.cr.execute(
            "SELECT COUNT(*) FROM isp_subscription WHERE company_id = %s AND id > %s",
            [company.id, model.resume_after if model else 0],
        )
        return self.env.cr.fetchone()[0] + 2

    @api.model
    def _cron_score(self, date_ref=None):
        """*ISP: score the payment risk* (daily)."""
        done = 0
        for company in self._companies():
            today = date_ref or fields.Date.context_today(self.with_company(company))
            try:
                with self.env.cr.savepoint():
                    done += self.with_company(company)._score(company, today)
            except (
                psycopg2.errors.SerializationFailure,
                psycopg2.errors.LockNotAvailable,
            ):
                # another job (payments, sending, billing) changed some of
                # these invoices since this transaction began: their scores
                # are written again in 5 minutes; the other companies go on
                _logger.info(
                    "Payment risk: company %s scored again later (invoices "
                    "changed by another transaction)",
                    company.id,
                )
                self.env.invalidate_all()
                cron = self.env.ref(
                    "isp_payment_risk.ir_cron_isp_payment_risk_score",
                    raise_if_not_found=False,
                )
                if cron:
                    cron._trigger(fields.Datetime.now() + timedelta(minutes=5))
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return True
