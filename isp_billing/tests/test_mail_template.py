# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``mail_template.py``'s compile-once rendering (context key
``isp_qweb_compile_once``, the dunning ladder's e-mails): the same output as
Odoo's own rendering, one compilation per batch, and the Odoo internals it
relies on. When Odoo changes them, these tests fail: then check whether the
override is still needed (docs/benchmarks.md, dunning section) and adapt or
remove it."""

import inspect

from lxml import html

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger, safe_eval

from odoo.addons.mail.models.mail_render_mixin import MailRenderMixin

from .common import IspBillingCommon

QWEB_LOOP = """<div>
    <p>Dear <t t-out="object.partner_id.name"/>,</p>
    <t t-set="lines" t-value="object.invoice_line_ids"/>
    <ul><li t-foreach="lines" t-as="line"><t t-out="line.name"/>:
        <t t-out="format_amount(line.price_total, object.currency_id)"/></li></ul>
    <p t-if="object.amount_residual &gt; 2000">A large amount.</p>
    <p t-else="">A small amount.</p>
    <a t-att-href="object.get_portal_url()">Pay now</a>
</div>
<p>Second root node: <t t-out="object.name"/></p>"""


@tagged("post_install", "-at_install")
class TestMailTemplateCompileOnce(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sub = cls._create_subscription(cls.plan_home, cls.d("2026-11-01"))
        odd = cls.env["res.partner"].create(
            {"name": 'Ochieng <b>& "Sons"</b>', "email": "ochieng@example.com"}
        )
        cls.invoices = cls.env["account.move"]
        for partner, lines in (
            (cls.customer, [("10 Mbps Home", 2999.0, sub)]),
            (
                cls.customer_2,
                [("Router rental", 300.0, None), ("Static IP", 500.0, None)],
            ),
            (odd, [("50 Mbps Business", 9999.0, None)]),
        ):
            cls.invoices |= (
                cls.env["account.move"]
                .with_company(cls.company)
                .create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": cls.d("2026-11-01"),
                        "currency_id": cls.kes.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": name,
                                    "quantity": 1,
                                    "price_unit": price,
                                    "tax_ids": [
                                        Command.set((cls.excise | cls.vat).ids)
                                    ],
                                    "account_id": cls.income_account.id,
                                    "isp_subscription_id": sub.id if sub else False,
                                }
                            )
                            for name, price, sub in lines
                        ],
                    }
                )
            )
        cls.invoices.action_post()
        for invoice in cls.invoices:  # the same "Pay now" link each time
            invoice._portal_ensure_token()
        cls.templates = cls.env.ref(
            "isp_billing.mail_template_isp_dunning_reminder"
        ) | cls.env.ref("isp_billing.mail_template_isp_dunning_overdue")
        cls.loop_template = cls.env["mail.template"].create(
            {
                "name": "QWeb loop",
                "model_id": cls.env.ref("account.model_account_move").id,
                "body_html": QWEB_LOOP,
            }
        )

    def _count_compilations(self):
        """Count ``ir.qweb._compile`` calls (the real method runs)."""
        IrQweb = type(self.env["ir.qweb"])
        compile_ = IrQweb._compile
        calls = []

        def counting_compile(qweb, template):
            calls.append(template)
            return compile_(qweb, template)

        self.patch(IrQweb, "_compile", counting_compile)
        return calls

    def _render(self, template, once, res_ids=None):
        return template.with_context(isp_qweb_compile_once=once)._render_field(
            "body_html", res_ids or self.invoices.ids
        )

    def test_same_output_as_odoo(self):
        """For each record, what Odoo renders, to the character."""
        for template in self.templates | self.loop_template:
            with self.subTest(template=template.name):
                odoo_bodies = self._render(template, once=False)
                bodies = self._render(template, once=True)
                self.assertEqual(bodies, odoo_bodies)
                self.assertEqual(len(set(bodies.values())), 3, "one body each")
                self.assertIn(
                    "Ochieng &lt;b&gt;&amp; &#34;Sons&#34;", bodies[self.invoices[2].id]
                )
        loop = self._render(self.loop_template, once=True)[self.invoices[1].id]
        self.assertIn("Router rental", loop)
        self.assertIn("Static IP", loop)
        self.assertIn("A small amount.", loop)
        self.assertTrue(loop.startswith("<div>"), loop[:20])
        self.assertTrue(loop.endswith("</p>"), "Odoo's <div> wrapper is removed")

    def test_one_compilation_per_batch(self):
        """The reason for the override: Odoo compiles the body once per record
        (not cached, the template is a fresh etree). If this starts failing
        on Odoo's side (1 compilation), the override is no longer needed."""
        compilations = self._count_compilations()
        self._render(self.templates[0], once=False)
        self.assertEqual(len(compilations), 3, "Odoo: one compilation per record")
        del compilations[:]
        self._render(self.templates[0], once=True)
        self.assertEqual(len(compilations), 1, "compile-once: one for the batch")
        del compilations[:]
        self.templates[0].with_context(isp_qweb_compile_once=True).send_mail_batch(
            self.invoices.ids, force_send=False
        )
        self.assertEqual(len(compilations), 1, "as the dunning ladder sends")

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_error_reported_by_odoo(self):
        """A template that fails renders through Odoo's path, which reports
        it as Odoo does."""
        broken = self.loop_template.copy(
            {"body_html": '<p t-out="object.isp_no_such_field"/>'}
        )
        for once in (False, True):
            with self.subTest(once=once), self.assertRaises(UserError):
                self._render(broken, once=once)

    def test_odoo_internals(self):
        """What the override calls, with the signatures and results it expects."""

        def params(function):
            return list(inspect.signature(function).parameters)

        IrQweb = type(self.env["ir.qweb"])
        MailTemplate = type(self.env["mail.template"])
        self.assertEqual(
            params(MailRenderMixin._render_template_qweb),
            ["self", "template_src", "model", "res_ids", "add_context", "options"],
        )
        self.assertEqual(params(IrQweb._compile), ["self", "template"])
        self.assertEqual(params(IrQweb._prepare_environment), ["self", "values"])
        self.assertEqual(params(safe_eval.check_values), ["d"])
        self.assertEqual(params(MailTemplate._render_eval_context), ["self"])
        self.assertEqual(
            params(MailTemplate._has_unsafe_expression_template_qweb),
            ["self", "template_src", "model"],
        )
        self.assertIs(MailTemplate._unrestricted_rendering, True)

        # Odoo's own rendering, which the override reproduces: a <div> parent
        # around the fragment, IrQweb._render, then [5:-6] to remove it.
        source = inspect.getsource(MailRenderMixin._render_template_qweb)
        self.assertIn(
            "html.fragment_fromstring(template_src, create_parent='div')", source
        )
        self.assertIn("self.env['ir.qweb']._render(", source)
        self.assertIn("render_result[5:-6]", source)
        render_source = inspect.getsource(IrQweb._render)
        for call in (
            "._prepare_environment(values)",
            "safe_eval.check_values(values)",
            "._compile(template)",
            "template_functions[def_name]",
        ):
            self.assertIn(call, render_source)

        # _compile of an etree: (functions, name of the root function), which
        # renders to strings, the <div> parent included.
        values = {"object": self.invoices[0]}
        qweb = self.env["ir.qweb"]._prepare_environment(values)
        functions, def_name = qweb._compile(
            html.fragment_fromstring('<b t-out="object.name"/>', create_parent="div")
        )
        self.assertEqual(
            "".join(functions[def_name](qweb, values)),
            f"<div><b>{self.invoices[0].name}</b></div>",
        )
