# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Security of the M-PESA add-on (issue #13): rights of every public method
over JSON-RPC, the append-only receipt ledger, account-number wildcards,
bounded callbacks, disabled providers, the callback token kept out of the
logs, and neutralised copies that cannot reach Daraja."""

import json
import logging
import time

from odoo.exceptions import UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import IspMpesaCommon

CTRL_LOGGER = "odoo.addons.isp_mpesa.controllers.main"
PROVIDER_LOGGER = "odoo.addons.isp_mpesa.models.payment_provider"
LEDGER_LOGGER = "odoo.addons.isp_mpesa.models.isp_mpesa_payment"
HTTP_LOGGER = "odoo.http"
ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"


class _Capture(logging.Handler):
    """Every record at INFO and above that reaches the root logger, as the
    log file would show it (Odoo's server logs at INFO)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def text(self):
        return "\n".join(self.lines)


class IspMpesaSecurityCommon(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = cls._active_subscription(
            cls.plan_home, cls.d("2026-10-01"), anchor=cls.d("2026-10-01")
        )
        cls._create_role_users(
            "sec",
            accountant=("accountant", "base.group_user,account.group_account_manager"),
        )

    def setUp(self):
        super().setUp()
        self.provider.action_mpesa_register_c2b()
        self.sent_before = len(self.sim.requests)

    def sent(self):
        """What Odoo sent to M-PESA since the test's set-up."""
        return self.sim.requests[self.sent_before :]

    def call(self, user, model, method, ids, *args, **kwargs):
        """``model.method(ids, *args, **kwargs)`` over JSON-RPC as ``user``."""
        self.env.flush_all()
        self.authenticate(user.login, user.login)
        try:
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": model,
                    "method": method,
                    "args": [ids, *args],
                    "kwargs": kwargs,
                },
            )
        finally:
            self.env.invalidate_all()

    def assertRefused(self, error, user, model, method, ids, *args, **kwargs):
        with (
            mute_logger(HTTP_LOGGER),
            self.assertRaises(JsonRpcException, msg=f"{user.login}: {method}") as cm,
        ):
            self.call(user, model, method, ids, *args, **kwargs)
        self.assertEqual(str(cm.exception), error, f"{user.login}: {method}")

    def ledger(self, receipt):
        return self.env["isp.mpesa.payment"].search([("name", "=", receipt)])

    def ledger_state(self):
        return [
            (e.name, e.amount, e.state, e.partner_id.id, e.transaction_id.id)
            for e in self.env["isp.mpesa.payment"].search([], order="id")
        ]


@tagged("post_install", "-at_install")
class TestMpesaRights(IspMpesaSecurityCommon):
    """Every public method of the add-on's models checks the caller's rights
    before any sudo(): refused over JSON-RPC to whoever it is not meant for,
    and nothing changed, nothing sent to M-PESA."""

    def test_provider_actions_are_for_system_administrators(self):
        """Token rotation, paybill registration and the connection test:
        refused to a subscriber, ISP staff and an ISP manager; no call to
        Daraja, token unchanged."""
        token = self.provider.mpesa_callback_token
        access_token = self.provider.mpesa_access_token
        registered = self.provider.mpesa_c2b_registered_on
        for user in (self.portal_user, self.isp_user, self.isp_manager):
            for method in (
                "action_mpesa_regenerate_token",
                "action_mpesa_register_c2b",
                "action_mpesa_test_connection",
            ):
                with self.subTest(user=user.login, method=method):
                    self.assertRefused(
                        ACCESS_ERROR,
                        user,
                        "payment.provider",
                        method,
                        self.provider.ids,
                    )
        self.assertEqual(self.provider.mpesa_callback_token, token)
        self.assertEqual(self.provider.mpesa_access_token, access_token)
        self.assertEqual(self.provider.mpesa_c2b_registered_on, registered)
        self.assertEqual(self.sent(), [], "nothing sent to M-PESA")
        self.assertEqual(len(self.sim.registrations), 1)

        # a system administrator may
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.company.id)], "password": admin.login})
        self.call(
            admin, "payment.provider", "action_mpesa_test_connection", self.provider.ids
        )
        self.assertEqual([r["path"] for r in self.sent()], ["/oauth/v1/generate"])
        self.call(
            admin,
            "payment.provider",
            "action_mpesa_regenerate_token",
            self.provider.ids,
        )
        self.assertNotEqual(self.provider.mpesa_callback_token, token)

    def test_assign_is_an_accountants_act(self):
        """Assign: refused to a subscriber, ISP staff, an ISP manager and an
        Invoicing user; an accountant assigns."""
        result = self.c2b_pay("NOBODY-77", 2999)
        entry = self.ledger(result["trans_id"])
        entry.partner_id = self.customer
        for user in (
            self.portal_user,
            self.isp_user,
            self.isp_manager,
            self.invoicing_user,
        ):
            with self.subTest(user=user.login):
                self.assertRefused(
                    ACCESS_ERROR, user, "isp.mpesa.payment", "action_assign", entry.ids
                )
        self.assertEqual(entry.state, "unmatched")
        self.assertFalse(entry.transaction_id)
        self.assertFalse(self.payments_of())

        self.call(self.accountant, "isp.mpesa.payment", "action_assign", entry.ids)
        self.assertEqual(entry.state, "assigned")
        self.assertEqual(entry.assigned_by_id, self.accountant)
        self.assertTrue(entry.assigned_date)
        self.assertEqual(self.payments_of().amount, 2999.0)
        self.assertIn(
            "sec_accountant",
            " ".join(entry.message_ids.mapped("body")),
            "who assigned it is on the chatter",
        )

    def test_process_again_is_for_system_administrators(self):
        failed = self.env["isp.mpesa.callback"]._mpesa_store(
            self.provider, "c2b", "FLD1234567", "{}"
        )
        failed.sudo().write({"state": "failed", "error": "test"})
        for user in (
            self.portal_user,
            self.isp_user,
            self.isp_manager,
            self.invoicing_user,
        ):
            with self.subTest(user=user.login):
                self.assertRefused(
                    ACCESS_ERROR,
                    user,
                    "isp.mpesa.callback",
                    "action_process_again",
                    failed.ids,
                )
        self.assertEqual(failed.state, "failed")

    def test_payment_request_is_for_staff(self):
        """Request M-PESA payment (invoice, subscription, the dialog's Send):
        refused to a subscriber, even on their own invoice; no prompt sent.
        ISP staff may."""
        invoice = self._invoice(1500.0)
        wizard = (
            self.env["isp.mpesa.request"]
            .with_user(self.isp_user)
            .with_context(default_invoice_ids=invoice.ids)
            .create({"phone": "0712345678"})
        )
        self.assertEqual(wizard.provider_id, self.provider)
        for model, method, ids in (
            ("account.move", "action_mpesa_request_payment", invoice.ids),
            ("isp.subscription", "action_mpesa_request_payment", self.sub.ids),
            ("isp.mpesa.request", "action_send", wizard.ids),
        ):
            with self.subTest(method=f"{model}.{method}"):
                self.assertRefused(ACCESS_ERROR, self.portal_user, model, method, ids)
        self.assertEqual(self.sent(), [], "no prompt sent")
        self.assertFalse(invoice.transaction_ids)

        # a disabled provider in the dialog is refused too
        self.provider.state = "disabled"
        own = self.call(
            self.isp_user, "account.move", "action_mpesa_request_payment", invoice.ids
        )
        self.assertEqual(own["res_model"], "isp.mpesa.request")
        self.assertRefused(
            USER_ERROR, self.isp_user, "isp.mpesa.request", "action_send", wizard.ids
        )
        self.assertEqual(self.sent(), [])
        self.provider.state = "test"
        self.call(self.isp_user, "isp.mpesa.request", "action_send", wizard.ids)
        self.assertEqual(len(self.sim.pushes), 1)


@tagged("post_install", "-at_install")
class TestMpesaLedgerImmutable(IspMpesaSecurityCommon):
    """The receipt ledger is append-only for its money and identity fields."""

    def setUp(self):
        super().setUp()
        self.october = self._bill(self.sub, self.d("2026-10-01"))

    def test_money_fields_cannot_be_rewritten(self):
        """Amount, customer, state, transaction, receipt, phone and time:
        refused to ISP staff and Invoicing users (no write right) and to an
        accountant and an ISP manager (immutable), also in the ORM as
        superuser."""
        matched = self.ledger(self.c2b_pay(self.sub.account_number, 11)["trans_id"])
        self.assertEqual(matched.state, "matched")
        before = self.ledger_state()
        other_tx = self.env["payment.transaction"].search([], limit=1)
        rewrites = [
            {"amount": 999999},
            {"partner_id": self.customer_2.id},
            {"state": "unmatched"},
            {"transaction_id": other_tx.id},
            {"name": "FORGED0001"},
            {"msisdn": "254700000000"},
            {"trans_time": "2020-01-01 00:00:00"},
        ]
        for vals in rewrites:
            for user, error in (
                (self.isp_user, ACCESS_ERROR),
                (self.invoicing_user, ACCESS_ERROR),
                (self.isp_manager, ACCESS_ERROR),
                (self.accountant, USER_ERROR),
            ):
                with self.subTest(user=user.login, vals=vals):
                    self.assertRefused(
                        error, user, "isp.mpesa.payment", "write", matched.ids, vals
                    )
            with self.subTest(orm=vals), self.assertRaises(UserError):
                matched.write(vals)
        self.assertEqual(self.ledger_state(), before)
        with self.assertRaises(UserError):
            matched.unlink()
        self.assertEqual(self.ledger_state(), before)
        self.assertEqual(self.payments_of().amount, 11.0)

    def test_assigning_a_receipt_twice_pays_once(self):
        entry = self.ledger(self.c2b_pay("NOBODY-11", 11)["trans_id"])
        self.assertEqual(entry.state, "unmatched")
        # the accountant picks the customer (allowed while unmatched), assigns
        self.call(
            self.accountant,
            "isp.mpesa.payment",
            "write",
            entry.ids,
            {"partner_id": self.customer.id},
        )
        self.call(self.accountant, "isp.mpesa.payment", "action_assign", entry.ids)
        self.assertEqual(entry.state, "assigned")
        # again, after trying to put it back in the queue or change the amount
        for vals in ({"state": "unmatched"}, {"amount": 999999}, {"partner_id": False}):
            self.assertRefused(
                USER_ERROR,
                self.accountant,
                "isp.mpesa.payment",
                "write",
                entry.ids,
                vals,
            )
        self.assertRefused(
            USER_ERROR, self.accountant, "isp.mpesa.payment", "action_assign", entry.ids
        )
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(self.payments_of().amount, 11.0)
        self.assertEqual(self.october.amount_residual, 2988.0)  # 2,999 - 11


@tagged("post_install", "-at_install")
class TestMpesaAccountWildcards(IspMpesaSecurityCommon):
    """Only an exact account number (case and spaces aside) matches."""

    def setUp(self):
        super().setUp()
        self.october = self._bill(self.sub, self.d("2026-10-01"))

    def hostile(self):
        number = self.sub.account_number
        return [
            "%",
            "_",
            "ACC%",
            "ACC00000_",
            number[:-1] + "_",
            number[:4] + "%",
            "%%",
        ]

    def test_wildcards_never_match(self):
        for ref in self.hostile():
            with self.subTest(ref=ref):
                result = self.c2b_pay(ref, 100)
                self.assertEqual(result["confirmation"].status, 200)
                entry = self.ledger(result["trans_id"])
                self.assertEqual(
                    (entry.state, entry.partner_id.id), ("unmatched", False)
                )
                self.assertFalse(entry.transaction_id)
        self.assertFalse(self.payments_of())
        self.assertEqual(self.october.amount_residual, 2999.0)

    def test_validation_refuses_wildcards_as_unknown(self):
        self.sim.c2b_validation_enabled = True
        self.provider.mpesa_c2b_reject_unknown = True
        for ref in self.hostile():
            with self.subTest(ref=ref):
                refused = self.c2b_pay(ref, 100)
                self.assertFalse(refused["accepted"])
                self.assertEqual(refused["validation"].json()["ResultCode"], "C2B00012")
        self.assertFalse(self.env["isp.mpesa.payment"].search([]))
        known = self.c2b_pay(" " + self.sub.account_number.lower(), 100)
        self.assertTrue(known["accepted"])
        self.assertEqual(self.october.amount_residual, 2899.0)


@tagged("post_install", "-at_install")
class TestMpesaCallbackBounds(IspMpesaSecurityCommon):
    """Hostile callbacks: 400 (or 403), nothing kept, nothing recorded."""

    def setUp(self):
        super().setUp()
        self.october = self._bill(self.sub, self.d("2026-10-01"))

    def assertNothingKept(self):
        self.assertFalse(self.inbox())
        self.assertFalse(self.env["isp.mpesa.payment"].search([]))
        self.assertFalse(self.payments_of())
        self.assertEqual(self.october.amount_residual, 2999.0)

    def test_out_of_bounds_amounts_are_refused(self):
        good = self.c2b_body("BND1234567", "100.00", self.sub.account_number)
        amounts = [
            "1e10",
            1e10,
            "0.0000001",
            "1e400",
            "NaN",
            "Infinity",
            "-5",
            "0",
            "abc",
            "250000.01",
            "300000",
            "100.001",
            True,
            None,
            [],
        ]
        with mute_logger(CTRL_LOGGER):
            for amount in amounts:
                with self.subTest(amount=amount):
                    response = self._post(
                        self.confirm_url(), {**good, "TransAmount": amount}
                    )
                    self.assertEqual(response.status_code, 400)
            # JSON numbers Python reads as infinity and not-a-number
            text = json.dumps(good)
            for literal in ("1e400", "NaN", "-Infinity"):
                with self.subTest(literal=literal):
                    raw = text.replace('"100.00"', literal)
                    response = self._post(self.confirm_url(), raw, raw=True)
                    self.assertEqual(response.status_code, 400)
        self.assertNothingKept()
        # the boundary is accepted
        self._post(self.confirm_url(), {**good, "TransAmount": "250000.00"})
        self.assertEqual(self.ledger("BND1234567").amount, 250000.0)

    def test_validation_refuses_out_of_bounds_amounts(self):
        good = self.c2b_body("VAL1234567", "100.00", self.sub.account_number)
        for amount in ("1e10", "0.0000001", "1e400", "NaN", "-5", "abc"):
            with self.subTest(amount=amount):
                response = self._post(
                    self.validate_url(), {**good, "TransAmount": amount}
                )
                self.assertEqual(response.json()["ResultCode"], "C2B00013")
        self.assertNothingKept()

    def test_large_bodies_are_refused_before_parsing(self):
        big = self.c2b_body("BIG1234567", "100.00", self.sub.account_number)
        big["FirstName"] = "A" * (5 * 2**20)
        with mute_logger(CTRL_LOGGER):
            for url in (self.confirm_url(), self.validate_url(), self.stk_url()):
                with self.subTest(url=url[:28]):
                    self.assertEqual(self._post(url, big).status_code, 400)
        self.assertNothingKept()

    def test_deep_json_is_refused_without_a_traceback(self):
        deep = "[" * 5000 + "]" * 5000
        deep_object = '{"a": ' * 5000 + "1" + "}" * 5000
        with mute_logger(CTRL_LOGGER):
            for url in (self.confirm_url(), self.validate_url(), self.stk_url()):
                for body in (deep, deep_object):
                    with self.subTest(url=url[:28], body=body[:3]):
                        response = self._post(url, body, raw=True)
                        self.assertEqual(response.status_code, 400)
        self.assertNothingKept()

    def test_replays_keep_one_copy_of_the_body(self):
        body = self.c2b_body("RPL1234567", "100.00", self.sub.account_number)
        for __ in range(3):
            self.assertEqual(self._post(self.confirm_url(), body).status_code, 200)
        entry = self.ledger("RPL1234567")
        self.assertEqual(entry.raw_payload.count("c2b_confirmation"), 1)
        self.assertEqual(len(self.payments_of()), 1)

    def test_stk_replays_keep_one_copy_of_the_callback(self):
        invoice = self._invoice(1500.0)
        tx = self._request_payment(invoice)
        self.deliver()
        self.assertEqual(tx.state, "done")
        callback = self.sim.stk_callback_payload(tx.mpesa_checkout_request_id)
        for __ in range(3):
            self.assertEqual(self._post(self.stk_url(), callback).status_code, 200)
        self.assertEqual(tx.sudo().mpesa_log.count('"stk_callback"'), 1)
        self.assertEqual(len(self.payments_of()), 1)

    def test_disabled_provider_refuses_its_token(self):
        self.provider.state = "disabled"
        body = self.c2b_body("DIS1234567", "100.00", self.sub.account_number)
        with mute_logger(CTRL_LOGGER):
            for url in (self.confirm_url(), self.validate_url(), self.stk_url()):
                with self.subTest(url=url[:28]):
                    self.assertEqual(self._post(url, body).status_code, 403)
        self.assertNothingKept()


@tagged("post_install", "-at_install")
class TestMpesaTokenNotLogged(IspMpesaSecurityCommon):
    def test_callback_token_is_masked_in_the_access_log(self):
        """Odoo's access log (werkzeug, INFO) shows the callback path with
        the token masked; no log line of Odoo's (INFO and above, what a
        server logs) carries the token."""
        body = self.c2b_body("LOG1234567", "100.00", self.sub.account_number)
        capture = _Capture()
        root = logging.getLogger()
        root.addHandler(capture)
        try:
            with mute_logger(CTRL_LOGGER):
                self._post(self.confirm_url(), body, post_process=False)
                self._post(self.stk_url(), {"Body": {}})
                self._post(self.validate_url(), "[" * 5000, raw=True)
                self._post(self.confirm_url() + "?x=1", body, post_process=False)
            # werkzeug logs a request once its answer is written: wait for it
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and "?x=1" not in capture.text():
                time.sleep(0.05)
        finally:
            root.removeHandler(capture)
        text = capture.text()
        self.assertIn('"POST /payment/daraja/c2b/confirm/*** HTTP/1.1" 200', text)
        self.assertIn('"POST /payment/daraja/stk/*** HTTP/1.1" 400', text)
        self.assertIn('"POST /payment/daraja/c2b/validate/*** HTTP/1.1" 400', text)
        self.assertNotIn(self.token, text)


@tagged("post_install", "-at_install")
class TestMpesaNeutralize(IspMpesaSecurityCommon):
    def test_neutralized_copy_cannot_reach_daraja(self):
        """Odoo's neutralisation (data/neutralize.sql) blanks the Daraja
        secrets and the callback URLs and disables the provider: no job nor
        button calls M-PESA afterwards, no callback is believed."""
        self.provider.state = "enabled"
        invoice = self._invoice(1500.0)
        tx = self._request_payment(invoice)  # pending, to be queried
        self.sim.reset()
        self.env.flush_all()
        for query in get_neutralization_queries(["payment", "isp_mpesa"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        provider = self.provider.sudo()
        self.assertEqual(provider.state, "disabled")
        for field in (
            "mpesa_consumer_key",
            "mpesa_consumer_secret",
            "mpesa_passkey",
            "mpesa_access_token",
            "mpesa_callback_token",
            "mpesa_callback_base_url",
            "mpesa_c2b_registered_on",
        ):
            self.assertFalse(provider[field], field)

        self.age(tx, 3600)
        with mute_logger(PROVIDER_LOGGER):
            self.env["payment.transaction"]._cron_mpesa_query_pending()
            with self.assertRaises(UserError):
                provider.action_mpesa_test_connection()
            with self.assertRaises(UserError):
                provider.action_mpesa_register_c2b()
        self.assertEqual(self.sim.requests, [], "nothing sent to M-PESA")
        body = self.c2b_body("NTR1234567", "100.00", self.sub.account_number)
        with mute_logger(CTRL_LOGGER):
            self.assertEqual(self._post(self.confirm_url(), body).status_code, 403)
        self.assertFalse(self.inbox())
