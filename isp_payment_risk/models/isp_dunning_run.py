# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class IspDunningRun(models.AbstractModel):
    _inherit = "isp.dunning.run"

    @api.model
    def _claim(self, pairs):
        """Steps limited by the payment risk: an invoice scored below the
        threshold, or not scored, is logged *Not sent* for that step (so the
        step is done for it, once, as any step) and the rest is claimed as
        usual."""
        Step = self.env["isp.dunning.step"].sudo()
        limited = {
            step.id: step.isp_risk_threshold
            for step in Step.browse({step_id for __, step_id, __ in pairs})
            if step.isp_risk_threshold > 0
        }
        if not limited:
            return super()._claim(pairs)
        invoices = (
            self.env["account.move"]
            .sudo()
            .browse({inv for inv, step_id, __ in pairs if step_id in limited})
        )
        risk = {
            inv.id: inv.isp_risk_probability if inv.isp_risk_state == "scored" else None
            for inv in invoices
        }
        keep, skip = [], []
        for pair in pairs:
            threshold = limited.get(pair[1])
            value = risk.get(pair[0])
            if threshold is None or (value is not None and value >= threshold):
                keep.append(pair)
            else:
                skip.append((*pair, self._isp_risk_skip_note(value, threshold)))
        self._isp_risk_log_skipped(skip)
        return super()._claim(keep)

    @api.model
    def _isp_risk_skip_note(self, value, threshold):
        if value is None:
            return self.env._("Not sent: the invoice has no risk score.")
        risk, limit = f"{round(value * 100)} %", f"{round(threshold * 100)} %"
        return self.env._(
            "Not sent: risk of late payment %(risk)s, below the step's %(threshold)s.",
            risk=risk,
            threshold=limit,
        )

    @api.model
    def _isp_risk_log_skipped(self, rows):
        """Log ``(invoice, step, date, note)`` as *Not sent*, once per
        invoice and step (the history's unique key)."""
        if not rows:
            return
        # mogrified values go into the statement: their "%" (the notes'
        # percentages) must not read as placeholders
        values = ",".join(
            self.env.cr.mogrify("(%s, %s, %s, %s)", row).decode() for row in rows
        ).replace("%", "%%")
        self.env.cr.execute(
            f"""
            INSERT INTO isp_dunning_log
                (invoice_id, step_id, date, note, state, company_id, partner_id,
                 subscription_id, create_uid, write_uid, create_date, write_date)
            SELECT v.invoice_id, v.step_id, v.date, v.note, 'skipped',
                   m.company_id, m.partner_id,
                   (SELECT MIN(l.isp_subscription_id) FROM account_move_line l
                     WHERE l.move_id = m.id),
                   %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES {values}) AS v(invoice_id, step_id, date, note)
              JOIN account_move m ON m.id = v.invoice_id
            ON CONFLICT (invoice_id, step_id) DO NOTHING
            """,  # noqa: S608 - values are mogrified
            [self.env.uid, self.env.uid],
            log_exceptions=False,
        )
