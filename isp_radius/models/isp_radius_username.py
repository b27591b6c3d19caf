# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL


class IspRadiusUsername(models.Model):
    """A username Odoo has given a subscription, so once wrote (or may have
    written) rows for in FreeRADIUS. Reconciliation removes the rows of those
    no subscription owns any more, and never touches a username not listed
    here (an administrator's own)."""

    _name = "isp.radius.username"
    _description = "RADIUS username provisioned by Odoo"
    _order = "username"
    _rec_name = "username"

    username = fields.Char(required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    subscription_id = fields.Many2one(
        "isp.subscription",
        string="Last owner",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The subscription that had this username last.",
    )

    _sql_constraints = [
        (
            "username_company_unique",
            "unique(username, company_id)",
            "This username is already recorded for this company.",
        ),
    ]

    @api.model
    def _radius_record(self, subscriptions):
        """Record the usernames of ``subscriptions`` as Odoo's, in the current
        transaction (so before anything is written to FreeRADIUS)."""
        rows = [
            (sub.radius_username, sub.company_id.id, sub.id, self.env.uid)
            for sub in subscriptions
            if sub.radius_username and sub.company_id
        ]
        if not rows:
            return
        self.flush_model()
        # One statement for all of them (the last subscription of a username
        # wins, as one statement may not update a row twice).
        rows = list({(row[0], row[1]): row for row in rows}.values())
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC', "
                    "now() AT TIME ZONE 'UTC')",
                    *row,
                    row[3],
                )
                for row in chunk
            )
            self.env.cr.execute(
                SQL(
                    """INSERT INTO isp_radius_username (
                           username, company_id, subscription_id, create_uid,
                           write_uid, create_date, write_date)
                       VALUES %s
                       ON CONFLICT (username, company_id) DO UPDATE
                          SET subscription_id = EXCLUDED.subscription_id,
                              write_uid = EXCLUDED.write_uid,
                              write_date = EXCLUDED.write_date""",
                    values,
                )
            )
        self.invalidate_model()
