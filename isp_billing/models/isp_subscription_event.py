# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

EVENT_TYPES = [
    ("new", "New"),
    ("upgrade", "Upgrade"),
    ("downgrade", "Downgrade"),
    ("plan_change", "Plan change (same price)"),
    ("line_change", "Recurring lines changed"),
    ("currency_change", "Currency change"),
    ("suspension", "Suspension"),
    ("reactivation", "Reactivation"),
    ("termination", "Termination"),
    ("promise", "Promise to pay"),
]

# MRR movements (README, "Analytics definitions"). One signed amount per event;
# an event that leaves the MRR unchanged has none.
MOVEMENT_TYPES = [
    ("new", "New"),
    ("expansion", "Expansion"),
    ("contraction", "Contraction"),
    ("churn", "Churn"),
    ("reactivation", "Reactivation"),
    ("transfer_in", "Transfer in (currency change)"),
    ("transfer_out", "Transfer out (currency change)"),
]


def movement_type(change, others_live, before, after, customer_seen):
    """The movement type of a signed MRR ``change`` of a subscription (None when
    zero), from ``before`` to ``after``, by what it does to its customer: a
    rise of a customer without MRR (none on this subscription before, none on
    its others: ``others_live`` false) is *new* if it never had MRR
    (``customer_seen`` false), else *reactivation*; a fall that leaves the
    customer without MRR is *churn*. Otherwise a rise is *expansion* and a fall
    *contraction*."""
    if not change:
        return None
    if change > 0:
        if others_live or before:
            return "expansion"
        return "reactivation" if customer_seen else "new"
    return "contraction" if others_live or after else "churn"


class IspSubscriptionEvent(models.Model):
    """Append-only log of what happened to subscriptions, for reports (MRR
    movements, churn, suspensions). Rows are never changed nor deleted.

    Each event carries the subscription's MRR after it and its MRR movement
    (the signed change since the subscription's previous event, with its type),
    computed when the event is created, in the subscription's currency and in
    the company's currency at the event date's rate."""

    _name = "isp.subscription.event"
    _description = "ISP Subscription Event"
    _order = "event_date desc, id desc"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(
        related="subscription_id.partner_id", store=True, string="Customer"
    )
    customer_id = fields.Many2one(
        "res.partner",
        string="Commercial customer",
        readonly=True,
        index=True,
        help="The customer (commercial entity) at the event: new, churn and "
        "reactivation are counted per customer.",
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(
        "res.currency",
        readonly=True,
        required=True,
        help="The subscription's currency at the event.",
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company currency"
    )
    event_type = fields.Selection(
        EVENT_TYPES, string="Event type", required=True, index=True
    )
    event_date = fields.Date(string="Event date", required=True, index=True)
    reason = fields.Char()
    user_id = fields.Many2one(
        "res.users", string="By", default=lambda self: self.env.user, required=True
    )
    old_plan_id = fields.Many2one("product.product", string="Previous plan")
    new_plan_id = fields.Many2one("product.product", string="Plan")
    recurring_monthly = fields.Monetary(
        string="Monthly recurring after",
        help="MRR of the subscription after the event, in its currency.",
    )
    recurring_monthly_company = fields.Monetary(
        string="Monthly recurring after (company currency)",
        currency_field="company_currency_id",
        help="MRR of the subscription after the event in the company's currency, "
        "at the rate of the date of the event that last changed it.",
    )
    mrr_movement = fields.Selection(
        MOVEMENT_TYPES,
        string="MRR movement",
        readonly=True,
        index=True,
        help="Empty when the event leaves the MRR unchanged.",
    )
    mrr_change = fields.Monetary(
        string="MRR change",
        readonly=True,
        help="Signed change of the subscription's MRR by this event, in its currency.",
    )
    mrr_change_company = fields.Monetary(
        string="MRR change (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )

    @api.model_create_multi
    def create(self, vals_list):
        Sub = self.env["isp.subscription"]
        subs = Sub.browse([vals["subscription_id"] for vals in vals_list])
        for vals, sub in zip(vals_list, subs, strict=True):
            vals.setdefault("currency_id", sub.currency_id.id)
            vals.setdefault("recurring_monthly", 0.0)
            vals["customer_id"] = sub.partner_id.commercial_partner_id.id
        log = self._movement_log(vals_list)
        expanded = []
        for vals, sub in zip(vals_list, subs, strict=True):
            expanded += self._prepare_movements(sub, vals, log)
        events = super().create(expanded)
        # the stored MRR ledger follows the log in the same transaction
        self.env["isp.mrr.ledger"]._refresh(events.subscription_id.ids)
        return events

    @api.model
    def _movement_log(self, vals_list):
        """What the movements of the events ``vals_list`` (completed with
        their customer) read from the log, in three queries for the whole
        list: per subscription its last event (``last``: currency, MRR after,
        in the company's currency), per customer and company the MRR after
        the last event of each of its subscriptions (``live``), and the
        customers that had a rise (``seen``). :meth:`_prepare_movements`
        updates it with each event it prepares, so that the events of one
        list are read as if they had been created one after the other. Writes
        nothing.

        :rtype: dict
        """
        self.flush_model()
        cr = self.env.cr
        sub_ids = list({vals["subscription_id"] for vals in vals_list})
        customer_ids = list({vals["customer_id"] for vals in vals_list})
        cr.execute(
            """
            SELECT DISTINCT ON (subscription_id) subscription_id, currency_id,
                   recurring_monthly, recurring_monthly_company
              FROM isp_subscription_event
             WHERE subscription_id = ANY(%s)
          ORDER BY subscription_id, id DESC
            """,
            [sub_ids],
        )
        last = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """
            SELECT DISTINCT ON (customer_id, company_id, subscription_id)
                   customer_id, company_id, subscription_id, recurring_monthly
              FROM isp_subscription_event
             WHERE customer_id = ANY(%s)
          ORDER BY customer_id, company_id, subscription_id, id DESC
            """,
            [customer_ids],
        )
        live = defaultdict(dict)
        for customer_id, company_id, sub_id, mrr in cr.fetchall():
            live[customer_id, company_id][sub_id] = mrr or 0.0
        cr.execute(
            """
            SELECT DISTINCT customer_id, company_id
              FROM isp_subscription_event
             WHERE customer_id = ANY(%s) AND mrr_change > 0
            """,
            [customer_ids],
        )
        return {"last": last, "live": live, "seen": set(cr.fetchall())}

    def _prepare_movements(self, sub, vals, log):
        """The event values ``vals`` completed with the MRR movement, preceded by
        a *transfer out* event when the currency changed since the
        subscription's previous event; ``log`` (:meth:`_movement_log`) is
        updated with them. Writes nothing.

        :rtype: list[dict]
        """
        currency = self.env["res.currency"].browse(vals["currency_id"])
        company = sub.company_id
        date = vals["event_date"]
        customer = (vals["customer_id"], company.id)
        previous = log["last"].get(sub.id)
        before = previous[1] or 0.0 if previous else 0.0
        before_company = previous[2] or 0.0 if previous else 0.0
        after = currency.round(vals["recurring_monthly"])
        vals["recurring_monthly"] = after
        live = log["live"][customer]
        # Whether the customer has MRR on another subscription of the company
        # (by the last event of each).
        others_live = any(mrr for sub_id, mrr in live.items() if sub_id != sub.id)
        seen = customer in log["seen"]
        result = []
        if previous and previous[0] != currency.id:
            previous_currency = self.env["res.currency"].browse(previous[0])
            if not previous_currency.is_zero(before):
                result.append(
                    dict(
                        vals,
                        currency_id=previous_currency.id,
                        recurring_monthly=0.0,
                        recurring_monthly_company=0.0,
                        mrr_movement="transfer_out",
                        mrr_change=-before,
                        mrr_change_company=-before_company,
                    )
                )
            before = before_company = 0.0
            transfer = True
        else:
            transfer = False
        change = currency.round(after - before)
        if currency.is_zero(change):
            # Equal prices make no movement: the MRR keeps its valuation.
            result.append(
                dict(
                    vals,
                    recurring_monthly_company=before_company,
                    mrr_movement=False,
                    mrr_change=0.0,
                    mrr_change_company=0.0,
                )
            )
        else:
            after_company = currency._convert(after, company.currency_id, company, date)
            kind = (
                "transfer_in"
                if transfer
                else movement_type(change, others_live, before, after, seen)
            )
            result.append(
                dict(
                    vals,
                    recurring_monthly_company=after_company,
                    mrr_movement=kind,
                    mrr_change=change,
                    mrr_change_company=company.currency_id.round(
                        after_company - before_company
                    ),
                )
            )
        last = result[-1]
        log["last"][sub.id] = (
            last["currency_id"],
            last["recurring_monthly"],
            last["recurring_monthly_company"],
        )
        live[sub.id] = last["recurring_monthly"]
        if any(r["mrr_change"] > 0 for r in result):
            log["seen"].add(customer)
        return result

    def write(self, vals):
        raise UserError(self.env._("Subscription events cannot be changed."))

    @api.ondelete(at_uninstall=True)
    def _unlink_never(self):
        raise UserError(self.env._("Subscription events cannot be deleted."))
