#!/usr/bin/env python3
"""The quick start's demo: a Kenyan ISP in KES, M-PESA in test mode against the
bundled Daraja simulator, SMS through the bundled gateway simulator, portal
logins. ``tests/serve`` and the Docker stack (docker/init.sh) both run it.

Steps (each one idempotent):

* ``kenya_first(db)``: on a database with ``base`` only, make the main
  company Kenyan, so that installing ``account`` loads ``l10n_ke``'s chart
  (``ke``) and KES instead of the generic chart;
* ``build(env)``: languages (en_KE, sw), the plan products' taxes (l10n_ke's
  16 % VAT after the demo's 15 % excise duty), the history (``history(env)``:
  subscribers billed, charged by auto-pay and dunned by the real jobs for
  every day of the last HISTORY_MONTHS months), the portal logins;
* ``configure(env, daraja_url, sms_url, base_url)``: the M-PESA provider
  (test mode, published) pointed at the Daraja simulator with its test
  credentials, Odoo's demo provider enabled, the SMS gateway pointed at the
  SMS simulator, ``web.base.url`` = the served URL (M-PESA callbacks).

Command line::

    python3 tests/demo_builder.py --db NAME --daraja-url URL --sms-url URL \
        --base-url URL                 # build + configure
    python3 tests/demo_builder.py --pay ACCOUNT AMOUNT [--daraja-url URL]
                                       # a paybill (C2B) payment, via Daraja
                                       # (tests/serve also makes LIVE_PAYMENTS)
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

# The Daraja simulator's test credentials (tests/daraja_simulator.py defaults).
DARAJA_KEYS = {
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "shortcode": "174379",
    "passkey": "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
}
SMS_USERNAME = "sandbox"
SMS_API_KEY = "sim-api-key"
BUILT_PARAM = "isp_demo.built"  # set by build(): a database of the quick start
HISTORY_PARAM = "isp_demo.history"  # set by history(): made once
HISTORY_MONTHS = 4  # the history subscribers started on the 1st, this many months ago
DEMO_PORT_OFFSETS = {"daraja": 1, "sms": 2}  # beside Odoo's HTTP port

# (demo subscription XML id, login, password, what it shows)
PORTAL_LOGINS = [
    (
        "isp_billing.isp_subscription_wanjiku_demo",
        "wanjiku",
        "wanjiku-demo",
        "home plan",
    ),
    (
        "isp_billing.isp_subscription_achieng_demo",
        "achieng",
        "achieng-demo",
        "home plan, billed since a month ago",
    ),
    (
        "isp_demo.subscription_njeri",
        "njeri",
        "njeri-demo",
        "home plan for 4 months, paid by auto-pay (a saved card)",
    ),
    (
        "isp_demo.subscription_baraka",
        "baraka",
        "baraka-demo",
        "home plan for 4 months, stopped paying: reminded, then suspended",
    ),
    (
        "isp_billing.isp_subscription_amina_bundle_demo",
        "amina",
        "amina-demo",
        "5 GB data bundle",
    ),
]

EN_KE = {
    "name": "English (Kenya)",
    "code": "en_KE",
    "iso_code": "en_KE",
    "url_code": "en-ke",
    "date_format": "%d/%m/%Y",
    "time_format": "%H:%M:%S",
    "short_time_format": "%H:%M",
    "decimal_point": ".",
    "thousands_sep": ",",
    "grouping": "[3,0]",
    "week_start": "1",
}


def kenya_first(db):
    """Make the main company Kenyan and KES on a database where ``account`` is
    not installed yet: its installation then picks ``l10n_ke`` (auto-installed
    for Kenyan companies) and loads the ``ke`` chart in KES.

    The currency is set here too, not left to the chart: ``product`` (installed
    with ``account``, before the chart) creates the default pricelist in the
    company's currency of that moment, and every demo subscription and invoice
    takes its currency from that pricelist."""
    sql = (
        "UPDATE res_partner SET country_id = (SELECT id FROM res_country "
        "WHERE code = 'KE') WHERE id = (SELECT partner_id FROM res_company "
        "WHERE id = 1);"
        "UPDATE res_currency SET active = true WHERE name = 'KES';"
        "UPDATE res_company SET currency_id = (SELECT id FROM res_currency "
        "WHERE name = 'KES') WHERE id = 1;"
    )
    proc = subprocess.run(
        ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", db],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise harness.HarnessError(f"psql failed: {proc.stderr.strip()}")


def _lang(env, values):
    lang = (
        env["res.lang"]
        .with_context(active_test=False)
        .search([("code", "=", values["code"])])
    )
    if not lang:
        lang = env["res.lang"].create(values)
    lang.active = True
    return lang


def build(env):
    """Languages, taxes and portal logins of the demo (idempotent)."""
    company = env.ref("base.main_company")
    env["ir.config_parameter"].set_param(BUILT_PARAM, "1")
    _lang(env, EN_KE)
    env["res.lang"]._activate_lang("sw")
    env["ir.module.module"].search([("state", "=", "installed")])._update_translations(
        ["sw"]
    )
    env.ref("base.user_admin").lang = "en_KE"
    company.partner_id.lang = "en_KE"

    # l10n_ke has the 16 % VAT (ST16), no excise duty: the demo's 15 % excise
    # (included in the VAT base) comes first, then l10n_ke's VAT.
    vat = env["account.chart.template"].with_company(company).ref("ST16", False)
    excise = env.ref("isp_billing.tax_excise_15_demo", False)
    if vat and excise:
        vat.sequence = excise.sequence + 1
        demo_vat = env.ref("isp_billing.tax_vat_16_demo", False)
        if demo_vat:
            for product in env["product.product"].search(
                [("taxes_id", "in", demo_vat.ids)]
            ):
                product.taxes_id = [(3, demo_vat.id), (4, vat.id)]
            demo_vat.active = False  # invoices already issued keep it
        plans = env["product.product"].search([("isp_is_plan", "=", True)])
        for product in plans:
            product.taxes_id = [(6, 0, (excise | vat).ids)]

    history(env)
    portal = env.ref("base.group_portal")
    for xmlid, login, password, __ in PORTAL_LOGINS:
        sub = env.ref(xmlid)
        partner = sub.partner_id
        partner.lang = "en_KE"
        user = (
            env["res.users"]
            .with_context(active_test=False)
            .search([("login", "=", login)])
        )
        if not user:
            user = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "login": login,
                        "partner_id": partner.id,
                        "groups_id": [(6, 0, portal.ids)],
                        "company_id": company.id,
                        "company_ids": [(6, 0, company.ids)],
                    }
                )
            )
        user.write({"password": password, "active": True})


# (XML id in isp_demo, name, mobile, how invoices are paid: "autopay" (a
# saved card of Odoo's demo provider, charged by the auto-pay job) or the
# first N by bank)
HISTORY_SUBSCRIBERS = [
    ("subscription_njeri", "Njeri Mwangi", "0711 222 333", "autopay"),
    ("subscription_baraka", "Baraka Odhiambo", "0722 444 555", 3),
]

# Paybill payments tests/serve makes through the Daraja simulator once Odoo
# serves a database it has just built: Savannah pays part of its balance; a
# payer mistypes the account (no such account: Unmatched M-PESA payments).
LIVE_PAYMENTS = [("ACC000003", 20000), ("ACC00003", 1500)]


def history(env):
    """Months of life, made once by the real jobs: subscribers started
    HISTORY_MONTHS months ago on the 1st, billed by the billing job and
    walked through the dunning ladder by the dunning job for every day since
    (``date_ref``), with the auto-pay job of that day: Njeri pays by auto-pay
    (a saved card of Odoo's demo provider, charged on the invoice date),
    Baraka paid his first three invoices by bank two days after their date,
    then no more, so the ladder reminds him (3 days before the due date, on it, 3
    days after) and suspends him for non-payment 7 days after it."""
    from datetime import timedelta  # noqa: PLC0415

    from dateutil.relativedelta import relativedelta  # noqa: PLC0415

    from odoo import Command, fields  # noqa: PLC0415

    params = env["ir.config_parameter"]
    if params.get_param(HISTORY_PARAM):
        return
    company = env.ref("base.main_company")
    Sub = env["isp.subscription"].with_company(company)
    today = fields.Date.context_today(Sub.with_context(tz="Africa/Nairobi"))
    start = today + relativedelta(months=-HISTORY_MONTHS, day=1)
    plan = env.ref("isp_billing.product_plan_home_10_demo")
    bank = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    subs = Sub
    paid_count = {}
    for xml_name, name, mobile, paid in HISTORY_SUBSCRIBERS:
        partner = env["res.partner"].create(
            {
                "name": name,
                "mobile": mobile,
                "email": f"{name.split()[0].lower()}@example.com",
                "country_id": env.ref("base.ke").id,
                "city": "Nairobi",
                "tz": "Africa/Nairobi",
                "lang": "en_KE",
            }
        )
        sub = Sub.create(
            {
                "partner_id": partner.id,
                "date_start": start,
                "line_ids": [Command.create({"product_id": plan.id})],
            }
        )
        env["ir.model.data"].create(
            {
                "module": "isp_demo",
                "name": xml_name,
                "model": sub._name,
                "res_id": sub.id,
                "noupdate": True,
            }
        )
        subs |= sub
        paid_count[sub] = paid
    card = env.ref("payment.payment_provider_demo")
    if card.state == "disabled":
        card.state = "test"
    card.journal_id = card.journal_id or bank
    for sub in subs.filtered(lambda s: paid_count[s] == "autopay"):
        token = env["payment.token"].create(
            {
                "provider_id": card.id,
                "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
                "partner_id": sub.partner_id.id,
                "payment_details": "4242",
                "provider_ref": f"demo-{sub.partner_id.id}",
                "demo_simulated_state": "done",
            }
        )
        sub.action_autopay_enable(token)
    subs.action_activate()
    day = start
    while day <= today:
        Sub._cron_bill_subscriptions(date_ref=day)
        env["isp.autopay.attempt"]._cron_autopay(today=day)
        for sub in subs.filtered(lambda s: paid_count[s] != "autopay"):
            invoices = env["account.move"].search(
                [
                    ("isp_subscription_ids", "in", sub.ids),
                    ("state", "=", "posted"),
                    ("move_type", "=", "out_invoice"),
                ],
                order="invoice_date, id",
            )
            invoices = invoices[: paid_count[sub]]
            for invoice in invoices.filtered(
                lambda m, day=day: (
                    m.payment_state == "not_paid"
                    and m.invoice_date + timedelta(days=2) <= day
                )
            ):
                env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=invoice.ids
                ).create(
                    {"payment_date": day, "journal_id": bank.id}
                )._create_payments()
        env["isp.dunning.run"]._cron_dunning(date_ref=day)
        day += timedelta(days=1)
    _billing_exception(env, Sub, plan, today)
    params.set_param(HISTORY_PARAM, "1")


def _billing_exception(env, Sub, plan, today):
    """A billing exception to fix: Wekesa Hardware's receivable account is a
    closed (deprecated) one, so the billing job cannot post its first
    invoice and lists the subscription in *Billing exceptions* (the fix: a
    valid receivable account on the customer, then *Retry billing*)."""
    from odoo import Command  # noqa: PLC0415

    closed = env["account.account"].create(
        {
            "name": "Receivable (closed)",
            "code": "110099",
            "account_type": "asset_receivable",
            "reconcile": True,
            "deprecated": True,
        }
    )
    partner = env["res.partner"].create(
        {
            "name": "Wekesa Hardware",
            "is_company": True,
            "mobile": "0733 666 777",
            "email": "wekesa@example.com",
            "country_id": env.ref("base.ke").id,
            "city": "Eldoret",
            "tz": "Africa/Nairobi",
            "lang": "en_KE",
            "property_account_receivable_id": closed.id,
        }
    )
    sub = Sub.create(
        {
            "partner_id": partner.id,
            "date_start": today.replace(day=1),
            "line_ids": [Command.create({"product_id": plan.id})],
        }
    )
    env["ir.model.data"].create(
        {
            "module": "isp_demo",
            "name": "subscription_wekesa",
            "model": sub._name,
            "res_id": sub.id,
            "noupdate": True,
        }
    )
    sub.action_activate()
    Sub._cron_bill_subscriptions(date_ref=today)


def configure(env, daraja_url, sms_url, base_url):
    """Point M-PESA and SMS at the simulators, Odoo's own URL at ``base_url``."""
    company = env.ref("base.main_company")
    env["ir.config_parameter"].set_param("web.base.url", base_url)
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    provider = env.ref("isp_mpesa.payment_provider_mpesa").with_company(company)
    provider.write(
        {
            **{f"mpesa_{key}": value for key, value in DARAJA_KEYS.items()},
            "mpesa_base_url": daraja_url,
            "mpesa_callback_base_url": base_url,
            "state": "test",
            "is_published": True,
        }
    )
    if not provider.journal_id:
        provider.journal_id = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
    env.ref("payment.payment_method_mpesa").active = True
    demo = env.ref("payment.payment_provider_demo", False)
    if demo:
        demo.write({"state": "test", "is_published": True})
        if not demo.journal_id:
            demo.journal_id = provider.journal_id
    company.write(
        {
            "isp_sms_gateway": "africastalking",
            "isp_sms_at_username": SMS_USERNAME,
            "isp_sms_at_api_key": SMS_API_KEY,
            "isp_sms_at_base_url": sms_url,
        }
    )
    provider._mpesa_ensure_token()
    env.flush_all()
    provider.action_mpesa_register_c2b()
    return provider


def pay(daraja_url, account, amount, msisdn="254708374149"):
    """A paybill (C2B) payment of ``amount`` KES to ``account``, made by the
    Daraja simulator: it POSTs the confirmation to the URL Odoo registered for
    the demo's paybill (configure()), as Safaricom would. Returns the
    simulator's record of it (``trans_id``: the M-PESA receipt)."""
    import requests  # noqa: PLC0415

    response = requests.post(
        f"{daraja_url}/__sim__/c2b_pay",
        json={
            "bill_ref": account,
            "amount": float(amount),
            "msisdn": msisdn,
            "shortcode": DARAJA_KEYS["shortcode"],
        },
        timeout=60,
    )
    if not response.ok:
        raise harness.HarnessError(
            f"the Daraja simulator refused the payment: {response.text}"
        )
    return response.json()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/demo_builder.py")
    parser.add_argument("--db")
    parser.add_argument(
        "--daraja-url",
        default=f"http://127.0.0.1:{8069 + DEMO_PORT_OFFSETS['daraja']}",
        help="the Daraja simulator of tests/serve (default: beside port 8069)",
    )
    parser.add_argument("--sms-url")
    parser.add_argument("--base-url")
    parser.add_argument("--configure-only", action="store_true")
    parser.add_argument("--pay", nargs=2, metavar=("ACCOUNT", "AMOUNT"))
    args = parser.parse_args(argv)
    if args.pay:
        try:
            result = pay(args.daraja_url, args.pay[0], args.pay[1])
        except harness.HarnessError as exc:
            print(exc, file=sys.stderr)
            return 1
        confirmation = result.get("confirmation") or {}
        print(
            f"Paybill {DARAJA_KEYS['shortcode']}, account {args.pay[0]}: "
            f"KES {float(args.pay[1]):,.2f}, M-PESA receipt {result['trans_id']}; "
            f"Odoo answered {confirmation.get('status')}"
        )
        return 0 if confirmation.get("status") == 200 else 1
    import odoo  # noqa: PLC0415

    registry = harness.open_registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if not args.configure_only:
            build(env)
        elif not env["ir.config_parameter"].get_param(BUILT_PARAM):
            return 0  # not a demo database: served as it is
        configure(env, args.daraja_url, args.sms_url, args.base_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
