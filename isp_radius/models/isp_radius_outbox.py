# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The network changes that today's state cannot tell: the rows of a former
username to remove, the CoA / Disconnect owed to a live session. Each is
written in the transaction of the change that caused it, and applied, in order,
after the commit or by the reconciliation job once FreeRADIUS (or the NAS)
answers again."""

import logging

import psycopg2

from odoo import api, fields, models

from .isp_radius import IspRadiusUnavailable

_logger = logging.getLogger(__name__)

ACTIONS = [
    ("suspend", "Suspension"),
    ("reconnect", "Reactivation"),
    ("disconnect", "Termination"),
    ("rate", "Speed change"),
]


class IspRadiusOutbox(models.Model):
    _name = "isp.radius.outbox"
    _description = "Pending RADIUS network change"
    _order = "id"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    subscription_id = fields.Many2one(
        "isp.subscription", readonly=True, index=True, ondelete="set null"
    )
    kind = fields.Selection(
        [
            ("forget", "Remove a former username's rows"),
            ("session", "CoA / Disconnect of live sessions"),
        ],
        required=True,
        readonly=True,
    )
    username = fields.Char(
        readonly=True,
        help="Remove: the former username. CoA / Disconnect: the username when "
        "the change was made (its former usernames' sessions are reached too).",
    )
    action = fields.Selection(ACTIONS, readonly=True)
    attempts = fields.Integer(readonly=True, default=0)
    last_error = fields.Text(string="Last error", readonly=True)
    date_last_attempt = fields.Datetime(string="Last attempt", readonly=True)

    @api.depends("kind", "username", "action")
    def _compute_display_name(self):
        labels = dict(ACTIONS)
        for row in self:
            if row.kind == "forget":
                row.display_name = self.env._(
                    "Remove the rows of %(username)s", username=row.username
                )
            else:
                row.display_name = self.env._(
                    "%(action)s: CoA / Disconnect of %(username)s",
                    action=labels.get(row.action, row.action),
                    username=row.username,
                )

    # ------------------------------------------------------------------
    # Applying the changes
    # ------------------------------------------------------------------

    def _radius_claim(self):
        """The rows of ``self`` this transaction may apply, in order.

        Each row is locked (``FOR UPDATE NOWAIT``): a row another worker is
        applying, or applied since this transaction began, is skipped, and so
        are the later rows of its subscription, which keeps each subscription's
        changes in order whatever the number of workers.
        """
        claimed = self.browse()
        skipped_subs = set()
        cr = self.env.cr
        for row in self.sorted("id"):
            if row.subscription_id.id in skipped_subs:
                continue
            try:
                with cr.savepoint(flush=False):
                    cr.execute(
                        "SELECT id FROM isp_radius_outbox WHERE id = %s "
                        "FOR UPDATE NOWAIT",
                        [row.id],
                        log_exceptions=False,
                    )
                    found = cr.fetchone()
            except (
                psycopg2.errors.LockNotAvailable,
                psycopg2.errors.SerializationFailure,
            ):
                found = None
            if found:
                claimed |= row
            elif row.subscription_id:
                skipped_subs.add(row.subscription_id.id)
        return claimed

    def _radius_failed(self, error):
        now = fields.Datetime.now()
        for row in self:
            row.write(
                {
                    "attempts": row.attempts + 1,
                    "last_error": error,
                    "date_last_attempt": now,
                }
            )

    @api.model
    def _radius_apply(self, company, subscriptions=None):
        """Apply the company's pending network changes, in order, and write
        FreeRADIUS's rows: ``subscriptions``' (a push after a commit) or every
        row Odoo owns (``None``: the reconciliation job).

        First the rows: the former usernames' go (unless another subscription
        has taken the username since: then they become that one's), the
        subscriptions' are rewritten. Then the CoA / Disconnect requests, in
        the order the changes were made, so each finds FreeRADIUS already
        saying what the session must get. A change is deleted once applied;
        one that cannot be (FreeRADIUS unreachable, the NAS silent) stays with
        its error and one more attempt, and the later changes of its
        subscription wait behind it.

        :return: the drift fixed (see ``isp.radius._reconcile``)
        :rtype: dict
        :raise IspRadiusUnavailable: when FreeRADIUS's database cannot be
            reached (the changes stay pending)
        """
        company = company.sudo()
        self = self.sudo()
        Subscription = self.env["isp.subscription"].sudo()
        gateway = self.env["isp.radius"]
        pending = self.search([("company_id", "=", company.id)])._radius_claim()
        forget = pending.filtered(lambda r: r.kind == "forget")
        sessions = pending - forget
        try:
            usernames = set(forget.mapped("username"))
            # A former username another subscription has taken since is
            # that subscription's now: its rows are rewritten, not removed.
            owners = Subscription.search([("radius_username", "in", list(usernames))])
            if subscriptions is None:
                drift = gateway._reconcile(company, extra_usernames=usernames)
            else:
                drift = {"users": 0, "groups": 0, "nas": 0}
                if forget:
                    drift = gateway._reconcile(
                        company, owners, extra_usernames=usernames
                    )
                # A CoA / Disconnect must find FreeRADIUS saying what the next
                # login gets: the rows of the subscriptions owed one go first.
                subscriptions = (
                    subscriptions.sudo() | sessions.subscription_id
                ) - owners
                if subscriptions:
                    pushed = gateway._reconcile(company, subscriptions)
                    drift = {key: drift[key] + pushed[key] for key in drift}
        except IspRadiusUnavailable as error:
            message = error.args[0]
            pending._radius_failed(message)
            if subscriptions:
                subscriptions.write(
                    {"radius_sync_state": "error", "radius_sync_error": message}
                )
            raise
        forget.unlink()
        synced = (
            Subscription.search(
                [
                    ("company_id", "=", company.id),
                    ("radius_sync_state", "in", ("pending", "error")),
                ]
            )
            if subscriptions is None
            else subscriptions | owners
        )
        synced.write(
            {
                "radius_sync_state": "synced",
                "radius_sync_error": False,
                "radius_synced_at": fields.Datetime.now(),
            }
        )
        waiting = set()
        for row in sessions:
            sub = row.subscription_id
            if not sub:  # deleted (a draft): no session to reach
                row.unlink()
                continue
            if sub.id in waiting:
                continue
            done, error = sub._radius_act(row.action)
            if done:
                row.unlink()
            else:
                waiting.add(sub.id)
                row._radius_failed(error)
                _logger.info(
                    "RADIUS %s of %s postponed: %s", row.action, sub.display_name, error
                )
        return drift
