# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment risk as an attacker sees it: over real HTTP and JSON-RPC
(``/web/dataset/call_kw``, ``/web/content``, the portal's pages), logged in
as each role. Staff (ISP users and managers, Invoicing users and
administrators) read the risk; the subscriber (portal), a plain internal
user and the public never do; nobody writes it; only ISP managers train
and score; only administrators download the fitted score (README:
Access)."""

import base64

from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import PaymentRiskCommon

ADDON = "isp_payment_risk"
# Every public method (no leading underscore) of the add-on's classes: each
# is an RPC endpoint. A new one fails test_public_methods_are_known until
# it is added here with who may call it.
PUBLIC_METHODS = {
    ("isp.payment.risk.model", "action_train_now"): {"isp_manager"},
    ("isp.payment.risk.model", "action_score_now"): {"isp_manager"},
}
ORM_API = {"create", "write", "pool"}  # our overrides: the risk columns refused
STAFF = ("isp_user", "invoicing", "billing_admin", "isp_manager")
NOT_STAFF = ("portal", "plain")
RISK_FIELDS = ["isp_risk_probability", "isp_risk_reasons", "isp_risk_days"]
ACCESS = "odoo.exceptions.AccessError"
NO_SESSION = "odoo.http.SessionExpiredException"


@tagged("post_install", "-at_install")
class TestPaymentRiskRights(PaymentRiskCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users(
            "riskrpc",
            plain_user=("plain", "base.group_user"),
            billing_admin=("billing_admin", "account.group_account_manager"),
            administrator=(
                "administrator",
                "base.group_system,isp_billing.group_isp_manager",
            ),
        )
        # the subscriber of the late payer, who owns the scored invoice
        cls.late_portal = cls._create_portal_user(
            "riskrpc_portal_late", cls.late_1.partner_id
        )
        cls.logins = {
            "portal": "riskrpc_portal_late",
            "plain": "riskrpc_plain",
            "isp_user": "riskrpc_isp_user",
            "invoicing": "riskrpc_invoicing",
            "billing_admin": "riskrpc_billing_admin",
            "isp_manager": "riskrpc_isp_manager",
        }
        cls.model = cls.env["isp.payment.risk.service"]._train(cls.company, cls.TODAY)
        cls.env["isp.payment.risk.service"]._score(cls.company, cls.TODAY)
        cls.invoice = cls.invoices[cls.late_1][-1]
        cls.env.invalidate_all()

    def _login(self, role):
        if role == "public":
            HttpCase.authenticate(self, None, None)
        else:
            login = self.logins[role]
            HttpCase.authenticate(self, login, login)

    def _call(self, model, method, args=(), **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {
                    "context": {"allowed_company_ids": self.company.ids},
                    **kwargs,
                },
            },
        )

    def _refused(self, role, model, method, args=(), **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self._call(model, method, args, **kwargs)
        self.assertIn(
            caught.exception.args[0],
            (ACCESS, NO_SESSION) if role == "public" else (ACCESS,),
            f"{model}.{method} as {role}",
        )

    def _risk(self):
        self.env.invalidate_all()
        return (
            self.invoice.isp_risk_probability,
            self.invoice.isp_risk_days,
            self.late_1.isp_risk_probability,
            self.late_1.isp_risk_state,
        )

    def test_public_methods_are_known(self):
        found = set()
        for name in self.registry:
            for klass in self.registry[name].__mro__:
                if getattr(klass, "_module", None) != ADDON:
                    continue
                for attr, value in vars(klass).items():
                    if (
                        not attr.startswith("_")
                        and attr not in ORM_API
                        and callable(value)
                        and not isinstance(value, type)
                    ):
                        found.add((name, attr))
        self.assertEqual(found, set(PUBLIC_METHODS))

    @mute_logger("odoo.http")
    def test_who_reads_the_risk_over_rpc(self):
        """Staff read the probability, reasons and expected days of the
        invoice and the subscription, filter and sort by them; the
        subscriber reading their own invoice, a plain internal user and the
        public are refused, also in a domain, an order or a grouping."""
        for role in STAFF:
            with self.subTest(role=role):
                self._login(role)
                [row] = self._call(
                    "account.move", "read", [self.invoice.ids, RISK_FIELDS]
                )
                self.assertGreater(row["isp_risk_probability"], 0.8)
                self.assertIn(
                    "paid 6 of the last 6 invoices late", row["isp_risk_reasons"]
                )
                self.assertGreater(row["isp_risk_days"], 0)
                [sub] = self._call(
                    "isp.subscription", "read", [self.late_1.ids, RISK_FIELDS]
                )
                self.assertGreater(sub["isp_risk_probability"], 0.8)
                found = self._call(
                    "account.move",
                    "search",
                    [
                        [
                            ("id", "in", self.open_invoices.ids),
                            ("isp_risk_probability", ">=", 0.5),
                        ]
                    ],
                    order="isp_risk_amount desc",
                )
                self.assertEqual(
                    set(found),
                    set(
                        (
                            self.invoices[self.late_1][-1]
                            | self.invoices[self.late_2][-1]
                        ).ids
                    ),
                )
        for role in (*NOT_STAFF, "public"):
            with self.subTest(role=role):
                self._login(role)
                if role == "portal":
                    # the subscriber reads their own invoice and subscription
                    self._call("account.move", "read", [self.invoice.ids, ["name"]])
                    self._call("isp.subscription", "read", [self.late_1.ids, ["state"]])
                for field in (*RISK_FIELDS, "isp_risk_amount", "isp_risk_state"):
                    self._refused(
                        role, "account.move", "read", [self.invoice.ids, [field]]
                    )
                for field in RISK_FIELDS:
                    self._refused(
                        role, "isp.subscription", "read", [self.late_1.ids, [field]]
                    )
                self._refused(
                    role,
                    "account.move",
                    "search",
                    [[("isp_risk_probability", ">=", 0.5)]],
                )
                self._refused(
                    role, "account.move", "search", [[]], order="isp_risk_amount desc"
                )
                self._refused(
                    role,
                    "account.move",
                    "read_group",
                    [[], ["isp_risk_probability:avg"], ["partner_id"]],
                )
                if role != "public":
                    # the fields are not even described to them
                    for model in ("account.move", "isp.subscription"):
                        described = self._call(model, "fields_get")
                        self.assertFalse([k for k in described if "isp_risk" in k])

    @mute_logger("odoo.http")
    def test_nobody_writes_the_risk(self):
        """The risk columns are the scoring job's: whoever may write the
        invoice or the subscription cannot set its risk (which would run or
        skip a risk-limited dunning step)."""
        before = self._risk()
        for role in (*STAFF, *NOT_STAFF, "public"):
            with self.subTest(role=role):
                self._login(role)
                for model, record in (
                    ("account.move", self.invoice),
                    ("isp.subscription", self.late_1),
                ):
                    self._refused(
                        role,
                        model,
                        "write",
                        [record.ids, {"isp_risk_probability": 0.0, "isp_risk_days": 1}],
                    )
                    self._refused(
                        role, model, "write", [record.ids, {"isp_risk_state": "none"}]
                    )
                self.assertEqual(self._risk(), before)
        # staff still write the invoice and the subscription otherwise
        self._login("isp_user")
        self._call("isp.subscription", "write", [self.late_1.ids, {"note": "ok"}])
        # and nobody makes a model version by hand
        for role in (*STAFF, *NOT_STAFF):
            self._login(role)
            self._refused(
                role,
                "isp.payment.risk.model",
                "create",
                [{"company_id": self.company.id, "version": 99, "state": "ready"}],
            )
            self._refused(
                role,
                "isp.payment.risk.model",
                "write",
                [self.model.ids, {"kind": "model"}],
            )
            self._refused(role, "isp.payment.risk.model", "unlink", [self.model.ids])

    @mute_logger("odoo.http")
    def test_who_trains_and_scores(self):
        """Only ISP managers train and score, and the jobs' and the engine's
        methods are no endpoints at all, not even for managers."""
        Model = self.env["isp.payment.risk.model"]
        for role in ("isp_user", "invoicing", "billing_admin", *NOT_STAFF, "public"):
            with self.subTest(role=role):
                self._login(role)
                for (model, method), allowed in PUBLIC_METHODS.items():
                    self.assertNotIn(role, allowed)
                    self._refused(role, model, method)
                self.assertEqual(Model.search_count([]), 1)
        self._login("isp_manager")
        for model, method in (
            ("isp.payment.risk.model", "_cron_train"),
            ("isp.payment.risk.model", "_cron_score"),
            ("isp.payment.risk.service", "_train"),
            ("isp.payment.risk.service", "_score"),
            ("isp.payment.risk.service", "_train_step"),
        ):
            self._refused("isp_manager", model, method)
        action = self._call("isp.payment.risk.model", "action_train_now")
        self.assertEqual(action["res_model"], "isp.payment.risk.model")
        self.assertEqual(Model.browse(action["res_id"]).version, 2)
        self.assertTrue(self._call("isp.payment.risk.model", "action_score_now"))

    @mute_logger("odoo.http")
    def test_only_administrators_download_the_fitted_score(self):
        """The fitted score (a pickle) is the scoring job's: staff read the
        versions and their figures, not the file, nor the training rows of a
        training in progress; an administrator downloads it."""
        model = self.model.sudo()
        blob = base64.b64decode(model.attachment_id.datas)
        attachment = model.attachment_id.id
        urls = (
            f"/web/content/{attachment}?download=true",
            f"/web/content/isp.payment.risk.model/{model.id}/scorer_file",
        )
        training = self.env["isp.payment.risk.service"]._train_start(
            self.company, self.TODAY
        )
        self.env["isp.payment.risk.service"]._train_step(training)
        self.assertTrue(training.sudo().part_ids)
        for role in (*STAFF, *NOT_STAFF, "public"):
            with self.subTest(role=role):
                self._login(role)
                for url in urls:
                    response = self.url_open(url)
                    self.assertNotEqual(response.content, blob, f"{url} as {role}")
                    self.assertIn(response.status_code, (403, 404), url)
                if role == "public":
                    continue
                if role in STAFF:
                    [row] = self._call(
                        "isp.payment.risk.model",
                        "read",
                        [model.ids, ["version", "pr_auc"]],
                    )
                    self.assertEqual(row["version"], 1)
                else:
                    self._refused(
                        role, "isp.payment.risk.model", "read", [model.ids, ["version"]]
                    )
                for field in ("attachment_id", "scorer_file", "part_ids"):
                    self._refused(
                        role, "isp.payment.risk.model", "read", [model.ids, [field]]
                    )
                self._refused(role, "ir.attachment", "read", [[attachment], ["datas"]])
                self._refused(
                    role,
                    "isp.payment.risk.model.part",
                    "search_read",
                    [[]],
                    fields=["data"],
                )
        HttpCase.authenticate(self, "riskrpc_administrator", "riskrpc_administrator")
        response = self.url_open(urls[0])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, blob)

    @mute_logger("odoo.http")
    def test_the_collections_worklist(self):
        """The worklist (its action, its list's columns, ordered by amount at
        risk) opens for staff; the subscriber and a plain internal user get
        no figure out of it."""
        action = self.env.ref("isp_payment_risk.account_move_action_isp_risk")
        specification = {
            "name": {},
            "amount_residual_signed": {},
            "isp_risk_probability": {},
            "isp_risk_amount": {},
            "isp_risk_reasons": {},
        }
        domain = [*eval(action.domain), ("company_id", "=", self.company.id)]  # noqa: S307
        for role in STAFF:
            with self.subTest(role=role):
                self._login(role)
                loaded = self.make_jsonrpc_request(
                    "/web/action/load", {"action_id": "isp-collections"}
                )
                self.assertEqual(loaded["id"], action.id)
                result = self._call(
                    "account.move",
                    "web_search_read",
                    specification=specification,
                    domain=domain,
                    order="isp_risk_amount desc, invoice_date_due, id",
                )
                names = [r["name"] for r in result["records"]]
                self.assertEqual(
                    set(names[:2]),
                    {
                        self.invoices[self.late_1][-1].name,
                        self.invoices[self.late_2][-1].name,
                    },
                )
                self.assertGreater(result["records"][0]["isp_risk_amount"], 2000)
        for role in NOT_STAFF:
            with self.subTest(role=role):
                self._login(role)
                self._refused(
                    role,
                    "account.move",
                    "web_search_read",
                    specification=specification,
                    domain=domain,
                    order="isp_risk_amount desc",
                )

    def test_the_portal_shows_no_risk(self):
        """The subscriber's invoice and subscription pages, logged in or by
        the invoice's link, carry no risk figure or reason."""
        self.assertGreater(self.invoice.isp_risk_probability, 0.8)
        reason = "paid 6 of the last 6 invoices late"
        self.assertIn(reason, self.invoice.isp_risk_reasons)
        percent = f"{round(self.invoice.isp_risk_probability * 100)}"
        token = self.invoice._portal_ensure_token()
        self._login("portal")
        pages = [
            "/my/invoices",
            f"/my/invoices/{self.invoice.id}",
            "/my/subscriptions",
            f"/my/subscriptions/{self.late_1.id}",
        ]
        for url in pages:
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200, url)
                self._assert_no_risk(response.text, reason, percent)
        self._login("public")
        response = self.url_open(f"/my/invoices/{self.invoice.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text)
        self._assert_no_risk(response.text, reason, percent)

    def _assert_no_risk(self, html, reason, percent):
        lowered = html.lower()
        for text in (
            reason,
            "risk of late payment",
            "expected days to pay",
            "amount at risk",
            "isp_risk",
        ):
            self.assertNotIn(text, lowered)
        self.assertNotIn(f"{percent} %", html)
        self.assertNotIn(f"{percent}%", html)
