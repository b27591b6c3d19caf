# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import format_amount

# Customers imported per batch, and per request.
IMPORT_BATCH = 200
# Customers imported per call of the scheduled action (10 batches): each call
# reads and checks the whole file again, so fewer, longer calls.
CRON_IMPORT_LIMIT = 2000


class IspSubscriberImportWizard(models.TransientModel):
    """*ISP → Configuration → Import subscribers*: the migration import of
    customers and their subscriptions from another billing system's export,
    with a dry run first (the service ``isp.subscriber.import``)."""

    _name = "isp.subscriber.import.wizard"
    _description = "Import subscribers"

    mapping = fields.Selection(
        [
            ("generic", "Generic layout (the template)"),
            ("phpnuxbill", "phpNuxBill (tbl_customers and tbl_user_recharges)"),
            ("splynx", "Splynx (customers export)"),
        ],
        string="File layout",
        required=True,
        default="generic",
    )
    file = fields.Binary(string="File", attachment=False)
    filename = fields.Char(string="File name")
    recharge_file = fields.Binary(
        string="Recharges file",
        attachment=False,
        help="phpNuxBill: the export of tbl_user_recharges.",
    )
    recharge_filename = fields.Char(string="Recharges file name")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Pricelist",
        domain="[('company_id', 'in', (company_id, False))]",
        help="The pricelist of the imported subscriptions. Empty: the products' "
        "sales prices.",
    )
    date_ref = fields.Date(
        string="Opening balance date",
        required=True,
        default=fields.Date.context_today,
        help="The date of the opening invoices and credit notes.",
    )
    state = fields.Selection(
        [
            ("draft", "To check"),
            ("checked", "Checked"),
            ("running", "Importing"),
            ("done", "Imported"),
        ],
        default="draft",
        readonly=True,
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    new_count = fields.Integer(string="To import", readonly=True)
    exists_count = fields.Integer(string="Already imported", readonly=True)
    problem_count = fields.Integer(string="Rows with a problem", readonly=True)
    created_count = fields.Integer(string="Imported now", readonly=True)
    remaining_count = fields.Integer(
        string="Still to import",
        readonly=True,
        help="Customers the scheduled action *ISP: import subscribers* still "
        "imports, a batch at a time.",
    )
    failed_lines = fields.Json(string="Failed lines", readonly=True)
    problems_html = fields.Html(string="Problems", readonly=True)
    reconciliation_html = fields.Html(string="Reconciliation", readonly=True)
    template_file = fields.Binary(string="Template", attachment=False, readonly=True)

    @api.model
    def default_get(self, fields_list):
        self.env["isp.subscriber.import"]._check_import_access()
        return super().default_get(fields_list)

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _prepare(self, failed=None, created=None, failed_now=()):
        """Read the file and check every row (writes nothing), streamed: the
        rows one at a time. The ``new`` rows of the lines of ``failed`` (line
        -> reason) and every row of ``failed_now`` (failed in this call) are
        problems, those of ``created`` *imported now*."""
        self.ensure_one()
        service = self.env["isp.subscriber.import"].with_company(self.company_id)
        service._check_import_access()
        rows = service._iter_file(
            self.mapping,
            base64.b64decode(self.file or b""),
            self.filename,
            recharges=base64.b64decode(self.recharge_file or b""),
            recharges_name=self.recharge_filename,
        )
        failed, created = failed or {}, created or set()

        def prepared():
            for item in service._iter_prepared(
                rows, self.company_id, pricelist=self.pricelist_id
            ):
                if item["line"] in created:
                    item["status"] = "created"
                elif item["line"] in failed and (
                    item["status"] == "new" or item["line"] in failed_now
                ):
                    item["status"] = "error"
                    item["errors"].append(failed[item["line"]])
                yield item

        return service, prepared()

    def _show(self, service, prepared, state, created=0, remaining=0):
        """The counts, the problems and the reconciliation of ``prepared``
        (read once, as it streams: only the rows with a problem are kept)."""
        counts = {"new": 0, "exists": 0, "error": 0, "created": 0}
        problems = []

        def counted():
            for item in prepared:
                counts[item["status"]] += 1
                if item["status"] == "error":
                    problems.append(
                        {
                            "line": item["line"],
                            "values": {
                                "account_number": item["values"].get("account_number"),
                                "name": item["values"].get("name"),
                            },
                            "errors": item["errors"],
                            "status": "error",
                        }
                    )
                yield item

        reconciliation = service._prepare_reconciliation(counted(), self.company_id)
        self.write(
            {
                "state": state,
                "row_count": sum(counts.values()),
                "new_count": counts["new"],
                "exists_count": counts["exists"],
                "problem_count": counts["error"],
                "created_count": created,
                "remaining_count": remaining,
                "problems_html": self._problems_html(problems),
                "reconciliation_html": self._reconciliation_html(reconciliation),
            }
        )
        return self._reopen()

    def action_dry_run(self):
        """Check the file: every row with a problem and its reason, and the
        reconciliation of what is in Odoo already. Writes nothing but this
        wizard."""
        self.env["isp.subscriber.import"]._check_import_access()
        service, prepared = self._prepare()
        return self._show(service, prepared, "checked")

    def action_import(self):
        """Import the rows without a problem (the others are listed): the
        first batch of customers now, the rest by the scheduled action *ISP:
        import subscribers*, a batch at a time; then the reconciliation."""
        self.env["isp.subscriber.import"]._check_import_access()
        action = self._import_batch()
        if self.state == "running":
            self.env.ref("isp_billing.ir_cron_isp_subscriber_import")._trigger()
        return action

    def action_refresh(self):
        """Show the progress of an import running in the background."""
        self.env["isp.subscriber.import"]._check_import_access()
        return self._reopen()

    def _import_batch(self):
        """Import the next batch of customers of the file (every call
        prepares the file again: those already imported are *already
        imported*; rows that failed in an earlier batch are not retried)."""
        self.ensure_one()
        failed = {
            int(line): reason for line, reason in (self.failed_lines or {}).items()
        }
        service, prepared = self._prepare(failed=failed)
        batch = self.env.context.get("isp_import_batch_size") or IMPORT_BATCH
        result = service._import_prepared(
            prepared,
            self.company_id,
            date_ref=self.date_ref,
            pricelist=self.pricelist_id,
            batch_size=batch,
            limit=self.env.context.get("isp_import_limit") or batch,
        )
        failed.update(result["failed"])
        self.failed_lines = {str(line): reason for line, reason in failed.items()}
        # The file read again for the counts and the reconciliation.
        service, prepared = self._prepare(
            failed=failed, created=set(result["lines"]), failed_now=result["failed"]
        )
        return self._show(
            service,
            prepared,
            "running" if result["remaining"] else "done",
            created=self.created_count + len(result["created"]),
            remaining=result["remaining"],
        )

    @api.model
    def _cron_import_subscribers(self):
        """The scheduled action *ISP: import subscribers*: the next batch of
        the oldest import running, as the ISP manager who started it (in the
        company of the import)."""
        wizard = self.sudo().search([("state", "=", "running")], order="id", limit=1)
        if not wizard:
            return
        wizard.with_user(wizard.create_uid).with_company(
            wizard.company_id
        ).with_context(isp_import_limit=CRON_IMPORT_LIMIT)._import_batch()
        if self.sudo().search_count([("state", "=", "running")], limit=1):
            self.env.ref("isp_billing.ir_cron_isp_subscriber_import")._trigger()

    def action_download_template(self):
        """The generic layout as a CSV file with one example row."""
        self.env["isp.subscriber.import"]._check_import_access()
        self.template_file = base64.b64encode(
            self.env["isp.subscriber.import"]._prepare_template()
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/template_file/"
            "subscribers_template.csv?download=true",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

    def _problems_html(self, prepared):
        rows = [item for item in prepared if item["status"] == "error"]
        if not rows:
            return False
        _ = self.env._
        html = Markup("<table class='table table-sm'><thead><tr>")
        for title in (_("Line"), _("Account number"), _("Name"), _("Problem")):
            html += Markup("<th>%s</th>") % title
        html += Markup("</tr></thead><tbody>")
        for item in rows:
            html += Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                item["line"],
                item["values"].get("account_number") or "",
                item["values"].get("name") or "",
                "; ".join(item["errors"]),
            )
        return html + Markup("</tbody></table>")

    def _reconciliation_html(self, totals):
        _ = self.env._
        html = Markup("")
        for code, figures in totals.items():
            currency = self.env["res.currency"].search([("name", "=", code)], limit=1)

            def money(value, currency=currency):
                return format_amount(self.env, value, currency)

            html += Markup(
                "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th>"
                "<th>%s</th></tr></thead><tbody>"
            ) % (code, _("In the file"), _("In Odoo"))
            for label, in_file, in_odoo in (
                (_("Rows"), figures["rows"], ""),
                (_("Rows with a problem"), figures["problems"], ""),
                (
                    _("Subscribers"),
                    figures["subscribers_file"],
                    figures["subscribers_odoo"],
                ),
                (
                    _("Recurring amount (one period, untaxed)"),
                    money(figures["price_file"]),
                    money(figures["price_odoo"]),
                ),
                (_("Monthly recurring (MRR)"), "", money(figures["mrr_odoo"])),
                (
                    _("Opening balances"),
                    money(figures["balance_file"]),
                    money(figures["balance_odoo"]),
                ),
            ):
                html += Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                    label,
                    in_file,
                    in_odoo,
                )
            for line, number, price, odoo in figures["differences"]:
                html += Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                    _(
                        "Price differs on line %(line)s (%(number)s)",
                        line=line,
                        number=number or "",
                    ),
                    money(price),
                    money(odoo),
                )
            html += Markup("</tbody></table>")
        return html
