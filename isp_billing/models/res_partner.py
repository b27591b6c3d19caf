# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

PHONE_FIELDS = ("phone", "mobile")


class ResPartner(models.Model):
    _inherit = "res.partner"

    isp_subscription_ids = fields.One2many(
        "isp.subscription", "partner_id", string="ISP subscriptions"
    )
    isp_subscription_count = fields.Integer(
        string="Subscriptions", compute="_compute_isp_subscription_count"
    )
    isp_consolidate_invoices = fields.Boolean(
        string="One invoice for all subscriptions",
        company_dependent=True,
        help="Bill all of this customer's subscriptions that fall due together on "
        "one invoice instead of one invoice per subscription.",
    )

    def _compute_isp_subscription_count(self):
        counts = dict(
            self.env["isp.subscription"]._read_group(
                [("partner_id", "child_of", self.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.isp_subscription_count = sum(
                count
                for sub_partner, count in counts.items()
                if sub_partner == partner
                or sub_partner.commercial_partner_id == partner
            )

    # ------------------------------------------------------------------
    # Phone numbers in E.164
    # ------------------------------------------------------------------

    def _isp_normalize_phones(self, vals):
        """Return ``vals`` with its phone numbers in E.164 (``+254712345678``).

        The country that reads a national number (``0712 345 678``) is the partner's,
        else the company's. Numbers written by other modules' data files are left as
        they are: their demo data is not ours to judge.

        :param dict vals: create or write values
        :rtype: dict
        :raise ValidationError: when a number cannot be a real phone number
        """
        install_module = self.env.context.get("install_module")
        if install_module and not install_module.startswith("isp_"):
            return vals
        if not any(vals.get(fname) for fname in PHONE_FIELDS):
            return vals
        vals = dict(vals)
        country = self.env["res.country"]
        if vals.get("country_id"):
            country = country.browse(vals["country_id"])
        elif len(self) == 1:
            country = self.country_id
        country = country or self.env.company.country_id
        for fname in PHONE_FIELDS:
            number = vals.get(fname)
            if not number:
                continue
            try:
                vals[fname] = self._phone_format(
                    number=number.strip(),
                    country=country,
                    force_format="E164",
                    raise_exception=True,
                )
            except UserError as error:
                raise ValidationError(
                    self.env._(
                        "%(field)s %(number)s is not a valid phone number%(where)s: "
                        "%(reason)s",
                        field=self._fields[fname].string,
                        number=number,
                        where=self.env._(" in %(country)s", country=country.name)
                        if country
                        else "",
                        reason=error.args[0],
                    )
                ) from error
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._isp_normalize_phones(vals) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        if any(vals.get(fname) for fname in PHONE_FIELDS) and len(self) > 1:
            # The reading country may differ per partner.
            for partner in self:
                partner.write(vals)
            return True
        return super().write(self._isp_normalize_phones(vals))

    def action_view_isp_subscriptions(self):
        self.ensure_one()
        self.env["isp.subscription"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_subscription_action"
        )
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
