# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-risk engine as a service model: reads the histories
set-based (a few SQL statements per batch of subscriptions), computes the
features with the pure functions of ``riskcore`` and trains or scores."""

import base64
import hashlib
import json
import logging
import math
from datetime import timedelta

import numpy as np
import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from ..riskcore import features as F
from ..riskcore import learn as L

_logger = logging.getLogger(__name__)

BATCH = 2000  # subscriptions read at once
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
        for sub, move_id, day, due, amount, paid in cr.fetchall():
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
    def _training_rows(self, company, as_of):
        """Features, labels, days to pay, issue dates and subscriptions of the
        invoices issued in the data window whose outcome is settled on
        ``as_of``, read by batches of subscriptions."""
        grace = company.isp_risk_grace_days
        date_from = as_of - relativedelta(months=WINDOW_MONTHS)
        X, y, days, dates, groups = [], [], [], [], []
        sub_ids = self._subscription_ids(company)
        for start in range(0, len(sub_ids), BATCH):
            histories = self._histories(sub_ids[start : start + BATCH])
            for history in histories.values():
                for inv, vector, late, d in F.labelled_rows(
                    history, grace, as_of, date_from
                ):
                    X.append(vector)
                    y.append(late)
                    days.append(d)
                    dates.append(inv["date"])
                    groups.append(history["id"])
            self.env.invalidate_all()
        return (
            L.to_matrix(X),
            np.array(y, dtype=np.int8),
            np.array(days, dtype=float),
            np.array(dates, dtype="datetime64[D]"),
            np.array(groups),
        )

    @api.model
    def _train(self, company, as_of):
        """Train ``company``'s model on its history as of ``as_of``: a new
        version (in use), or a *Not trained* record saying why. Scores
        nothing (see :meth:`_score`)."""
        Model = self.env["isp.payment.risk.model"].sudo()
        X, y, days, dates, groups = self._training_rows(company, as_of)
        version = (
            Model.search(
                [("company_id", "=", company.id)], order="version desc", limit=1
            ).version
            + 1
        )
        vals = {
            "company_id": company.id,
            "version": version,
            "train_date": fields.Datetime.now(),
            "as_of": as_of,
            "grace_days": company.isp_risk_grace_days,
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
            vals.update(
                state="refused",
                refusal_data={"code": refusal.code, **refusal.params},
            )
            return Model.create(vals)
        scorer, report = L.train(X, y, days, dates, groups, SEED, HOLDOUT_DAYS)
        blob = scorer.dumps()
        model = Model.create(
            {
                **vals,
                "state": "ready",
                "kind": scorer.kind,
                "holdout_count": report["n_test"],
                "report": _json_safe(report),
                "checksum": hashlib.sha256(blob).hexdigest(),
                **self._headline(report),
            }
        )
        model.attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"payment-risk-{company.id}-v{version}.pickle",
                    "res_model": model._name,
                    "res_id": model.id,
                    "raw": blob,
                    "mimetype": "application/octet-stream",
                }
            )
        )
        Model.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "ready"),
                ("id", "!=", model.id),
            ]
        ).state = "replaced"
        return model

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
        self.env.cr.execute(
            """
            SELECT DISTINCT s.id
              FROM isp_subscription s
              LEFT JOIN account_move_line l ON l.isp_subscription_id = s.id
              LEFT JOIN account_move m ON m.id = l.move_id
             WHERE s.company_id = %(company)s
               AND (s.state IN ('active', 'suspended')
                    OR (m.move_type = 'out_invoice' AND m.state = 'posted'
                        AND m.payment_state IN ('not_paid', 'partial')))
             ORDER BY s.id
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
        """*ISP: train the payment-risk model* (weekly): a new version per
        company, then scores with it."""
        for company in self._companies():
            today = date_ref or fields.Date.context_today(self.with_company(company))
            model = self.with_company(company)._train(company, today)
            _logger.info(
                "Payment risk: company %s, version %s, %s",
                company.id,
                model.version,
                model.state,
            )
            self.with_company(company)._score(company, today)
            if self.env.context.get("ir_cron_progress_id"):
                self.env.cr.commit()
        self.env["ir.cron"]._notify_progress(done=1, remaining=0)
        return True

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
