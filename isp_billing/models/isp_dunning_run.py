# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The dunning run: a service model that walks every company's ladder
(``isp.dunning.step``) over the open subscription invoices."""

import logging
from datetime import timedelta

from odoo import Command, api, fields, models

from ..const import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

ACTION_STRENGTH = {"none": 0, "throttle": 1, "suspend": 2, "terminate": 3}


class IspDunningRun(models.AbstractModel):
    _name = "isp.dunning.run"
    _description = "ISP dunning run"

    @api.model
    def _dunning_candidates(self, company, today, limit):
        """Open subscription invoices of ``company`` with at least one step
        due and not logged yet, ladder not paused by a promise to pay."""
        steps = self.env["isp.dunning.step"].search([("company_id", "=", company.id)])
        if not steps:
            return self.env["account.move"]
        latest_due_date = today - timedelta(days=min(steps.mapped("days")))
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id
              FROM account_move m
             WHERE m.company_id = %(company)s
               AND m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.invoice_date_due <= %(latest)s
               AND EXISTS (
                    SELECT 1 FROM account_move_line l
                      JOIN isp_subscription s ON s.id = l.isp_subscription_id
                     WHERE l.move_id = m.id
                       AND s.state IN ('active', 'suspended')
                       AND (s.promise_until IS NULL OR s.promise_until < %(today)s))
               AND NOT EXISTS (
                    SELECT 1 FROM isp_autopay_attempt a
                     WHERE a.invoice_id = m.id
                       AND a.state IN ('scheduled', 'processing'))
               AND EXISTS (
                    SELECT 1 FROM isp_dunning_step st
                     WHERE st.company_id = m.company_id AND st.active
                       AND m.invoice_date_due + st.days <= %(today)s
                       AND NOT EXISTS (
                            SELECT 1 FROM isp_dunning_log lg
                             WHERE lg.invoice_id = m.id AND lg.step_id = st.id))
             ORDER BY m.invoice_date_due, m.id
             LIMIT %(limit)s
             FOR NO KEY UPDATE OF m SKIP LOCKED
            """,
            {
                "company": company.id,
                "latest": latest_due_date,
                "today": today,
                "limit": limit,
            },
            log_exceptions=False,  # a concurrent worker's race is expected
        )
        return self.env["account.move"].browse(r[0] for r in self.env.cr.fetchall())

    @api.model
    def _claim(self, pairs):
        """Log (invoice, step) pairs as done, unless already: the claimed
        pairs. The unique key makes each step run once per invoice, also with
        two workers (the second one's insert waits, then fails to serialize and
        its run is retried later)."""
        if not pairs:
            return set()
        values = ",".join(
            self.env.cr.mogrify("(%s, %s, %s)", pair).decode() for pair in pairs
        )
        self.env.cr.execute(
            f"""
            INSERT INTO isp_dunning_log
                (invoice_id, step_id, date, create_uid, write_uid, create_date,
                 write_date, state)
            SELECT v.invoice_id, v.step_id, v.date, %s, %s,
                   now() at time zone 'UTC', now() at time zone 'UTC', 'done'
              FROM (VALUES {values}) AS v(invoice_id, step_id, date)
            ON CONFLICT (invoice_id, step_id) DO NOTHING
            RETURNING id, invoice_id, step_id
            """,  # noqa: S608 - values are mogrified
            [self.env.uid, self.env.uid],
            log_exceptions=False,  # a concurrent worker's race is expected
        )
        return self.env.cr.fetchall()

    @api.model
    def _cron_dunning(self, date_ref=None, batch_size=500):
        """Run every company's ladder over its open subscription invoices.

        A step is due on ``due date + days``. When several steps of an invoice
        are due at once (a late run, a promise that ended), only the latest
        step's messages are sent, the strongest action is taken, and every
        step is logged: each runs once per invoice."""
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        done = 0
        for company in self.env["isp.dunning.step"].search([]).company_id:
            company_today = date_ref or fields.Date.context_today(
                self.with_company(company)
            )
            self.with_company(company)._resume_broken_promises(company, company_today)
            while True:
                try:
                    with self.env.cr.savepoint():
                        invoices = self._dunning_candidates(
                            company, company_today, batch_size
                        )
                        if invoices:
                            done += self.with_company(company)._run_ladder(
                                company, invoices, company_today
                            )
                except CONCURRENCY_ERRORS:
                    # Another worker runs the ladder over the same invoices:
                    # what it claimed is done; the next run takes the rest.
                    _logger.info("Dunning: another worker is on it; stopping here")
                    self.env.invalidate_all()
                    break
                if in_cron:
                    self.env.cr.commit()
                if not invoices or len(invoices) < batch_size:
                    break
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return done

    @api.model
    def _run_ladder(self, company, invoices, today):
        steps = self.env["isp.dunning.step"].search([("company_id", "=", company.id)])
        Log = self.env["isp.dunning.log"].sudo()
        logged = {
            (log.invoice_id.id, log.step_id.id)
            for log in Log.search([("invoice_id", "in", invoices.ids)])
        }
        pairs, due_by_invoice = [], {}
        for invoice in invoices:
            due = steps.filtered(
                lambda s, inv=invoice: (
                    inv.invoice_date_due + timedelta(days=s.days) <= today
                    and (inv.id, s.id) not in logged
                )
            )
            if due:
                due_by_invoice[invoice.id] = due
                pairs += [(invoice.id, step.id, today) for step in due]
        claimed = self._claim(pairs)
        claimed_by_invoice = {}
        for log_id, invoice_id, step_id in claimed:
            claimed_by_invoice.setdefault(invoice_id, []).append((log_id, step_id))
        mails, sms_batches = {}, {}
        actions = {}
        for invoice in invoices.filtered(lambda inv: inv.id in claimed_by_invoice):
            entries = claimed_by_invoice[invoice.id]
            my_steps = (
                self.env["isp.dunning.step"]
                .browse(step_id for __, step_id in entries)
                .sorted(lambda s: (s.days, s.sequence, s.id))
            )
            last = my_steps[-1]
            logs = Log.browse(log_id for log_id, __ in entries)
            subs = invoice.isp_subscription_ids.filtered(
                lambda s: s.state in ("active", "suspended")
            )
            logs.write(
                {
                    "subscription_id": subs[:1].id,
                    "partner_id": invoice.partner_id.id,
                    "company_id": company.id,
                }
            )
            for log in logs:
                if log.step_id != last:
                    log.note = self.env._("Passed: a later step was due too.")
            last_log = logs.filtered(lambda lg, last=last: lg.step_id == last)
            if last.channel in ("email", "both") and last.mail_template_id:
                mails.setdefault(last.mail_template_id, []).append((invoice, last_log))
            if last.channel in ("sms", "both") and last.sms_template_id:
                sms_batches.setdefault(last.sms_template_id, []).append(
                    (invoice, last_log)
                )
            strongest = max(my_steps, key=lambda s: ACTION_STRENGTH[s.action])
            if strongest.action != "none":
                actions.setdefault(strongest.action, []).append(
                    (subs, invoice, last_log)
                )
            for step in my_steps.filtered("fee_product_id"):
                if not subs:
                    continue
                subs[:1].line_ids = [
                    Command.create(
                        {
                            "product_id": step.fee_product_id.id,
                            "line_type": "once",
                            "name": self.env._(
                                "%(fee)s (invoice %(invoice)s)",
                                fee=step.fee_product_id.display_name,
                                invoice=invoice.name,
                            ),
                        }
                    )
                ]
        for template, items in mails.items():
            self._send_emails(template, items)
        for template, items in sms_batches.items():
            self._send_sms(template, items)
        for action, items in actions.items():
            self._apply_action(action, items, today)
        return len(claimed_by_invoice)

    @api.model
    def _send_emails(self, template, items):
        invoices = self.env["account.move"].concat(*(inv for inv, __ in items))
        with_email = invoices.filtered(lambda inv: inv.partner_id.email)
        if with_email:
            with_email._isp_ensure_access_tokens()
            # Odoo compiles a template's QWeb body once per record: compile it
            # once per batch instead (MailTemplate below), same output.
            template.with_context(isp_qweb_compile_once=True).send_mail_batch(
                with_email.ids, force_send=False
            )
        for invoice, log in items:
            log.email_state = "queued" if invoice in with_email else "skipped"
            if invoice not in with_email:
                log.note = self.env._("No email address.")

    @api.model
    def _send_sms(self, template, items):
        invoices = self.env["account.move"].concat(*(inv for inv, __ in items))
        if template.lang:
            bodies = template._render_field("body", invoices.ids, compute_lang=True)
        else:  # each customer's language, as Odoo's SMS templates with a lang
            bodies = {}
            for lang, group in invoices.grouped(
                lambda inv: inv.partner_id.lang or self.env.lang
            ).items():
                bodies.update(template._render_field("body", group.ids, set_lang=lang))
        vals_list = []
        for invoice, log in items:
            partner = invoice.partner_id
            number = partner.phone_sanitized
            if not number:
                log.sms_state = "skipped"
                log.note = self.env._(
                    "No valid mobile number (%s).",
                    partner.mobile or partner.phone or "-",
                )
                continue
            if partner.phone_sanitized_blacklisted:
                log.sms_state = "skipped"
                log.note = self.env._("The customer opted out of SMS.")
                continue
            vals_list.append(
                {
                    "number": number,
                    "partner_id": partner.id,
                    # A no-break space (amounts) is not in the GSM-7 alphabet:
                    # it would make the SMS UCS-2, 70 characters a part.
                    "body": bodies[invoice.id]
                    .replace("\xa0", " ")
                    .replace("\u202f", " "),
                    "state": "outgoing",
                    "isp_company_id": invoice.company_id.id,
                    "isp_dunning_log_id": log.id,
                }
            )
            log.sms_state = "queued"
        if vals_list:
            self.env["sms.sms"].sudo().create(vals_list)

    @api.model
    def _apply_action(self, action, items, today):
        for subs, invoice, log in items:
            reason = self.env._(
                "Invoice %(invoice)s unpaid %(days)s days after its due date",
                invoice=invoice.name,
                days=(today - invoice.invoice_date_due).days,
            )
            if action == "suspend":
                to_suspend = subs.filtered(lambda s: s.state == "active")
                to_suspend.action_suspend(reason, kind="nonpayment")
            elif action == "terminate":
                for sub in subs.filtered(lambda s: s.state in ("active", "suspended")):
                    sub.action_terminate(today, reason, date_ref=today)
            elif action == "throttle":
                subs.filtered(lambda s: s.state == "active")._isp_dunning_throttle(
                    reason
                )
            log.action_done = action

    @api.model
    def _resume_broken_promises(self, company, today):
        """A promise to pay that ended with the invoices still overdue: back to
        where the ladder stood (suspended again if it had suspended)."""
        subs = self.env["isp.subscription"].search(
            [
                ("company_id", "=", company.id),
                ("promise_until", "<", today),
                ("promise_reactivated", "=", True),
            ]
        )
        for sub in subs:
            sub.promise_reactivated = False
            if sub.state == "active" and sub._isp_overdue_invoices(today):
                sub.action_suspend(
                    self.env._("Promise to pay ended unpaid"), kind="nonpayment"
                )
