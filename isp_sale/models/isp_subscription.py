# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, Command, fields, models
from odoo.exceptions import UserError


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        groups="sales_team.group_sale_salesman",
    )
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Plan order line",
        readonly=True,
        copy=False,
        ondelete="restrict",
        groups="sales_team.group_sale_salesman",
        help="The order line of the plan this subscription was made for.",
    )
    installation_task_ids = fields.Many2many(
        "project.task",
        string="Installation tasks",
        compute="_compute_installation_task_ids",
        groups="project.group_project_user",
    )

    _sql_constraints = [
        (
            "sale_line_unique",
            "unique(sale_line_id)",
            "An order line makes one subscription only.",
        ),
    ]

    def _compute_installation_task_ids(self):
        for sub in self:
            sub.installation_task_ids = (
                sub.sudo().line_ids.sale_line_id.task_id.with_env(self.env)
            )

    # ------------------------------------------------------------------
    # Activation of a sold subscription
    # ------------------------------------------------------------------

    def _isp_sale_prepare_start(self, day):
        """The start values of a sold subscription activated on ``day``: it
        starts that day; its periods start that day too, or, with the
        company's *First of the next month*, on the 1st of the next month
        for plans billed by months or years (a partial first period from
        ``day``). Writes nothing.

        :rtype: dict
        """
        self.ensure_one()
        anchor = day
        if (
            self.company_id.isp_sale_anchor == "month_start"
            and self.plan_id.isp_period_unit in ("month", "year")
            and day.day != 1
        ):
            anchor = day.replace(day=1) + relativedelta(months=1)
        return {"date_start": day, "billing_anchor_date": anchor}

    def action_activate(self):
        """Override of ``isp_billing``: a subscription made by a sales order
        starts on the day it is activated (installation done or *Activate*),
        its first invoice is made at once (prorated to the anchor), and the
        customer is welcomed (portal invitation, e-mail and SMS with the
        PPPoE login)."""
        self._isp_check_access()
        sold = self.filtered(
            lambda sub: sub.state == "draft" and sub.sudo().sale_order_id
        )
        for sub in sold:
            sub.write(sub._isp_sale_prepare_start(sub._today()))
        res = super().action_activate()
        sold._isp_sale_after_activation()
        return res

    def _isp_sale_after_activation(self):
        """Bill what is due from the activation day (the first, prorated,
        period) and welcome the customer."""
        for sub in self:
            self.env["isp.billing.run"]._bill(sub, sub.date_start)
        self.filtered(lambda sub: sub.company_id.isp_sale_welcome)._isp_sale_welcome()

    def _isp_sale_activate_from_tasks(self, tasks):
        """Activate the draft subscriptions of installation tasks marked done.

        The user who closes the task may have no ISP rights: closing an
        installation task they may write is their word that the line is
        installed, so activation runs as the superuser (its user, not only
        ``sudo()``: Odoo hashes posted invoices as the current user)."""
        drafts = self.with_user(SUPERUSER_ID).filtered(lambda sub: sub.state == "draft")
        for sub in drafts:
            sub.action_activate()
            names = ", ".join(
                tasks.sudo()
                .filtered(
                    lambda task, sub=sub: task.sale_line_id in sub.line_ids.sale_line_id
                )
                .mapped("name")
            )
            sub.message_post(
                body=self.env._(
                    "Activated by %(user)s: installation task %(task)s done.",
                    user=self.env.user.name,
                    task=names,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return drafts

    # ------------------------------------------------------------------
    # Welcome: portal invitation, e-mail and SMS
    # ------------------------------------------------------------------

    def _isp_sale_welcome(self):
        """Invite each customer to the portal (Odoo's own invitation, when
        they have no login yet) and send the welcome e-mail and SMS (the
        PPPoE login when ``isp_radius`` is installed). Runs as the superuser
        (after the caller's rights check). A customer without an e-mail
        address or mobile number gets what can reach them; the chatter says
        what was not sent."""
        template = self.env.ref("isp_sale.mail_template_isp_welcome").sudo()
        sms_template = self.env.ref("isp_sale.sms_template_isp_welcome").sudo()
        for sub in self.sudo():
            sub._isp_sale_invite_to_portal()
            if sub.partner_id.email:
                template.send_mail(sub.id)
            else:
                sub._isp_sale_note(self.env._("No e-mail address: no welcome e-mail."))
            sub._isp_sale_send_sms(sms_template)

    def _isp_sale_note(self, body):
        self.ensure_one()
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _isp_sale_invite_to_portal(self):
        """Odoo's portal invitation (*Grant portal access*) for the customer,
        unless they already have a login or have no e-mail address."""
        self.ensure_one()
        partner = self.partner_id
        if not partner.email:
            return False
        if partner.with_context(active_test=False).user_ids:
            return False
        wizard = (
            self.env["portal.wizard"]
            .sudo()
            .with_company(self.company_id)
            .create({"partner_ids": [Command.link(partner.id)]})
        )
        wizard_user = wizard.user_ids.filtered(lambda wu: wu.partner_id == partner)
        try:
            with self.env.cr.savepoint():
                wizard_user.action_grant_access()
        except UserError as error:
            self._isp_sale_note(
                self.env._(
                    "Portal invitation not sent: %(reason)s", reason=error.args[0]
                )
            )
            return False
        self._isp_sale_note(
            self.env._("Portal invitation sent to %(email)s.", email=partner.email)
        )
        return True

    def _isp_sale_send_sms(self, template):
        """Queue the welcome SMS through ``isp_billing``'s SMS path (Odoo's
        IAP or the company's own gateway), as the reminders are."""
        self.ensure_one()
        partner = self.partner_id
        number = partner.phone_sanitized
        if not number or partner.phone_sanitized_blacklisted:
            self._isp_sale_note(
                self.env._(
                    "No welcome SMS: no valid mobile number, or the customer "
                    "opted out of SMS."
                )
            )
            return False
        lang = partner.lang or self.env.lang
        body = template._render_field("body", self.ids, set_lang=lang)[self.id]
        self.env["sms.sms"].sudo().create(
            {
                "number": number,
                "partner_id": partner.id,
                # GSM-7 has no no-break space (see isp_billing's reminders).
                "body": body.replace("\xa0", " ").replace("\u202f", " "),
                "state": "outgoing",
                "isp_company_id": self.company_id.id,
            }
        )
        return True

    def _isp_sale_pppoe_credentials(self):
        """The PPPoE login of the welcome messages: ``(username, password)``
        when ``isp_radius`` is installed, else ``None``. Reads as the
        superuser (the password is for ISP staff and the subscriber only)."""
        self.ensure_one()
        if "radius_username" not in self._fields:
            return None
        sub = self.sudo()
        return sub.radius_username, sub.radius_password

    def _isp_sale_portal_url(self):
        self.ensure_one()
        return self.get_base_url() + self.access_url

    def _isp_sale_service_address(self):
        """The service address on one line (the customer summary)."""
        self.ensure_one()
        address = self.service_partner_id
        if not address:
            return ""
        lines = address._display_address(without_company=True).split("\n")
        return ", ".join(line.strip() for line in lines if line.strip())

    def _isp_sale_pppoe_text(self):
        """The PPPoE login as one sentence of the welcome SMS, in the
        context's language; empty without ``isp_radius``."""
        credentials = self._isp_sale_pppoe_credentials()
        if not credentials:
            return ""
        return self.env._(
            "PPPoE login %(username)s, password %(password)s.",
            username=credentials[0],
            password=credentials[1],
        )
