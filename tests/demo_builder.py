#!/usr/bin/env python3
"""The quick start's demo: a Kenyan ISP in KES, M-PESA in test mode against the
bundled Daraja simulator, SMS through the bundled gateway simulator, portal
logins. ``tests/serve`` and the Docker stack (docker/init.sh) both run it.

Steps (each one idempotent):

* ``kenya_first(db)``: on a database with ``base`` only, make the main
  company Kenyan, so that installing ``account`` loads ``l10n_ke``'s chart
  (``ke``) and KES instead of the generic chart;
* ``build(env)``: languages (en_KE, sw), the plan products' taxes (l10n_ke's
  16 % VAT after the demo's 15 % excise duty; with isp_sale, its demo
  quotations take them too), the history (``history(env)``:
  subscribers billed, charged by auto-pay and dunned by the real jobs for
  every day of the last HISTORY_MONTHS months), the portal logins;
* ``configure(env, daraja_url, sms_url, base_url)``: the M-PESA provider
  (test mode, published) pointed at the Daraja simulator with its test
  credentials, Odoo's demo provider enabled, the SMS gateway pointed at the
  SMS simulator, ``web.base.url`` = the served URL (M-PESA callbacks);
* with isp_radius and a FreeRADIUS (``--radius-dsn``, ``--nas-url``,
  ``--nas-coa-port``): ``configure_radius()``: the company's FreeRADIUS
  database, CoA on, the NAS simulator as the NAS *Nairobi POP*, every
  subscriber written to FreeRADIUS (the reconciliation job's own code);
  then, once per database, ``traffic()``: the NAS simulator sends
  FreeRADIUS the accounting of the subscribers' sessions of the last
  USAGE_DAYS days (past Event-Timestamps) and logs LIVE_USERS in through
  FreeRADIUS; on a database already built, the NAS simulator (restarted
  empty) sends Accounting-On and logs them in again. Then the accounting
  import job runs: data usage per day, online sessions, the usage alerts and
  fair use (Mutua over his 30 GB: slowed down, a CoA to his session). Amina's
  bundle ends at AMINA_USED_GB of 5 GB: the portal offers her a top-up.

Command line::

    python3 tests/demo_builder.py --db NAME --daraja-url URL --sms-url URL \
        --base-url URL                 # build + configure
    python3 tests/demo_builder.py --pay ACCOUNT AMOUNT [--daraja-url URL]
                                       # a paybill (C2B) payment, via Daraja
                                       # (tests/serve also makes LIVE_PAYMENTS)
"""

import argparse
import re
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
# Beside Odoo's HTTP port: TCP for the simulators and the NAS simulator's
# control API, UDP for FreeRADIUS (auth; accounting on the next port) and the
# NAS simulator's CoA port.
DEMO_PORT_OFFSETS = {"daraja": 1, "sms": 2, "radius": 3, "nas_coa": 5, "nas_control": 6}
# FreeRADIUS's secret for the NAS simulator (the client 127.0.0.1 of
# tests/freeradius/raddb/clients.conf, FR_SECRET) and the NAS's CoA secret
# in Odoo: a NAS has one shared secret for both.
RADIUS_SECRET = "demo-nas-secret"
NAS_IP = "127.0.0.1"
NAS_IDENTIFIER = "nairobi-pop"
NAS_XMLID = "isp_demo.nas_nairobi"
# The NAS simulator's Interim-Update: Odoo's Acct-Interim-Interval (sent to
# the NAS in every plan's reply), and what each live session downloads by then.
INTERIM_SECONDS = 300
INTERIM_BYTES = 25_000_000
TRAFFIC_PARAM = "isp_demo.traffic"  # set by traffic(): the history is sent once
USAGE_DAYS = 14  # days of past sessions
AMINA_USED_GB = 4.5  # of her 5 GB bundle: 90 %, past the 80 % of the offer
# Live sessions (logged in through FreeRADIUS, kept alive by the NAS
# simulator's interim updates): subscription XML ids.
LIVE_USERS = [
    "isp_billing.isp_subscription_wanjiku_demo",
    "isp_billing.isp_subscription_otieno_demo",
    "isp_billing.isp_subscription_savannah_hq_demo",
    "isp_demo.subscription_njeri",
    "isp_demo.subscription_mutua",
]
# The fair-use plan of Mutua (isp_demo.subscription_mutua) and the top-up of
# the 5 GB bundle, made by build() with isp_radius.
FUP_PLAN = {
    "name": "20 Mbps Home Fair Use (30 GB)",
    "default_code": "HOME-20-FUP",
    "list_price": 3999.0,
    "isp_download_mbps": 20,
    "isp_upload_mbps": 10,
    "isp_data_allowance_gb": 30,
    "isp_fup_download_mbps": 2,
    "isp_fup_upload_mbps": 1,
}
TOPUP_PRODUCT = {"name": "1 GB data top-up", "default_code": "TOPUP-1GB"}
TOPUP_PRICE = 200.0  # before the 15 % excise and 16 % VAT: 266.80 taxes included

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
        "5 GB data bundle at 90 %: a top-up offered",
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
        if "sale.order" in env:
            # isp_sale's demo quotations take the products' taxes of now
            env["sale.order"].search(
                [("state", "in", ("draft", "sent")), ("company_id", "=", company.id)]
            ).order_line._compute_tax_id()

    if "isp_usage_policy" in env["product.template"]._fields:
        radius_plans(env, excise | vat if vat and excise else None)
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
# first N by bank, the plan's XML id: None for the 10 Mbps home plan;
# Mutua's fair-use plan exists with isp_radius only)
HISTORY_SUBSCRIBERS = [
    ("subscription_njeri", "Njeri Mwangi", "0711 222 333", "autopay", None),
    ("subscription_baraka", "Baraka Odhiambo", "0722 444 555", 3, None),
    (
        "subscription_mutua",
        "Mutua Kilonzo",
        "0733 888 999",
        "autopay",
        "isp_demo.product_plan_home_20_fup",
    ),
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
    for xml_name, name, mobile, paid, plan_xmlid in HISTORY_SUBSCRIBERS:
        sub_plan = env.ref(plan_xmlid, False) if plan_xmlid else plan
        if not sub_plan:
            continue  # the fair-use plan: isp_radius is not installed
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
                "line_ids": [Command.create({"product_id": sub_plan.id})],
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


def _xmlid_record(env, xmlid, model, values):
    """The record of ``xmlid`` (module isp_demo), created with ``values``."""
    record = env.ref(xmlid, False)
    if record:
        return record
    record = env[model].create(values)
    module, name = xmlid.split(".")
    env["ir.model.data"].create(
        {
            "module": module,
            "name": name,
            "model": model,
            "res_id": record.id,
            "noupdate": True,
        }
    )
    return record


def radius_plans(env, taxes):
    """isp_radius's side of the plans: a 1 GB top-up on the 5 GB bundle and a
    fair-use plan (FUP_PLAN: slowed down to 2/1 Mbps over 30 GB)."""
    taxes_cmd = [(6, 0, taxes.ids)] if taxes else []
    topup = _xmlid_record(
        env,
        "isp_demo.product_topup_1gb",
        "product.product",
        {
            **TOPUP_PRODUCT,
            "type": "service",
            "list_price": TOPUP_PRICE,
            "purchase_ok": False,
            "taxes_id": taxes_cmd,
        },
    )
    env.ref("isp_billing.product_plan_bundle_5gb_demo").write(
        {
            "isp_usage_policy": "none",
            "isp_topup_product_id": topup.id,
            "isp_topup_gb": 1,
        }
    )
    home = env.ref("isp_billing.product_plan_home_10_demo")
    _xmlid_record(
        env,
        "isp_demo.product_plan_home_20_fup",
        "product.product",
        {
            **FUP_PLAN,
            "type": "service",
            "purchase_ok": False,
            "isp_is_plan": True,
            "isp_data_unlimited": False,
            "isp_usage_policy": "fup",
            "isp_period_interval": 1,
            "isp_period_unit": "month",
            "isp_payment_term_id": home.isp_payment_term_id.id,
            "taxes_id": taxes_cmd or [(6, 0, home.taxes_id.ids)],
        },
    )


def radius_db_name(db):
    """The FreeRADIUS database tests/serve keeps beside the Odoo database ``db``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", db)[:56] + "_radius"


def configure_radius(env, dsn, coa_port, nas_ip=NAS_IP, secret=RADIUS_SECRET):
    """isp_radius pointed at FreeRADIUS (``dsn``) and the NAS simulator (the
    NAS *Nairobi POP* at ``nas_ip``, CoA on ``coa_port``, shared secret
    ``secret``); every subscriber's rows written to FreeRADIUS now."""
    company = env.ref("base.main_company")
    company.write(
        {
            "isp_radius_dsn": dsn,
            "isp_radius_coa_enabled": True,
            "isp_radius_interim_interval": INTERIM_SECONDS,
        }
    )
    nas = env.ref(NAS_XMLID, False)
    values = {
        "name": "Nairobi POP (NAS simulator)",
        "ip_address": nas_ip,
        "secret": secret,
        "nas_type": "mikrotik",
        "coa_port": coa_port,
        "company_id": company.id,
    }
    if nas:
        nas.write(values)
    else:
        _xmlid_record(env, NAS_XMLID, "isp.radius.nas", values)
    env["isp.subscription"]._radius_reconcile_company(company)


def _nas(nas_url, path, payload=None):
    import requests  # noqa: PLC0415

    if payload is None:
        response = requests.get(f"{nas_url}{path}", timeout=60)
    else:
        response = requests.post(f"{nas_url}{path}", json=payload, timeout=60)
    if not response.ok:
        raise harness.HarnessError(
            f"the NAS simulator answered {response.status_code} to {path}: "
            f"{response.text}"
        )
    return response.json()


def traffic(env, nas_url):
    """The subscribers' traffic through the NAS simulator and FreeRADIUS (see
    the module docstring), then the accounting import job."""
    import random  # noqa: PLC0415
    from datetime import datetime, time, timedelta  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from odoo import fields  # noqa: PLC0415

    params = env["ir.config_parameter"]
    company = env.ref("base.main_company")
    # The import counts a session on the day of its last packet, in the
    # company's time zone.
    tz = ZoneInfo(company.partner_id.tz or "UTC")
    now = datetime.now(tz)
    today = now.date()
    live = [env.ref(xmlid, False) for xmlid in LIVE_USERS]
    live = [sub for sub in live if sub]
    if not params.get_param(TRAFFIC_PARAM):
        rng = random.Random(14)  # the same demo every time
        amina = env.ref("isp_billing.isp_subscription_amina_bundle_demo")
        subs = env["isp.subscription"].search(
            [("state", "=", "active"), ("radius_username", "!=", False)]
        )
        gb = 10**9
        for sub in subs:
            period_start = (sub._radius_current_period()[0]) or today
            days = [
                today - timedelta(days=n)
                for n in range(USAGE_DAYS, 0, -1)
                if today - timedelta(days=n) >= sub.date_start
            ]
            if sub == amina:
                # AMINA_USED_GB in the current period, a little every day before.
                in_period = [d for d in days if d >= period_start]
                share = AMINA_USED_GB * gb / len(in_period)
                volumes = {d: share if d in in_period else gb / 5 for d in days}
            else:
                plan = sub.plan_id.product_tmpl_id
                daily = 9 if plan.isp_download_mbps >= 50 else 2.5
                volumes = {d: daily * gb * rng.uniform(0.5, 1.5) for d in days}
            for day, volume in volumes.items():
                start = datetime.combine(day, time(18, rng.randrange(60)), tz)
                stop = start + timedelta(hours=rng.uniform(2, 5))
                _nas(
                    nas_url,
                    "/replay",
                    {
                        "user": sub.radius_username,
                        "start": int(start.timestamp()),
                        "stop": int(stop.timestamp()),
                        # a tenth uploaded, the rest downloaded
                        "in_bytes": int(volume / 10),
                        "out_bytes": int(volume - int(volume / 10)),
                    },
                )
    else:
        _nas(nas_url, "/reboot", {})  # a NAS that restarts: sessions closed
    for sub in live:
        if sub.state == "active":
            _nas(
                nas_url,
                "/login",
                {"user": sub.radius_username, "password": sub.radius_password},
            )
    mutua = env.ref("isp_demo.subscription_mutua", False)
    if mutua and not params.get_param(TRAFFIC_PARAM):
        # 110 % of the fair-use allowance today (the period's earlier days add
        # to it): slowed down by the import.
        start = mutua._radius_current_period()[0]
        more = int(mutua._radius_allowance_bytes(start) * 1.1) if start else 0
        _nas(
            nas_url,
            "/transfer",
            {
                "user": mutua.radius_username,
                "in_bytes": more // 10,
                "out_bytes": more - more // 10,
            },
        )
    params.set_param(TRAFFIC_PARAM, str(fields.Datetime.now()))
    env["isp.subscription"]._cron_radius_import()


def configure(env, daraja_url, sms_url, base_url, callback_url=None):
    """Point M-PESA and SMS at the simulators, Odoo's own URL at ``base_url``
    (M-PESA's callbacks at ``callback_url``, default ``base_url``: the
    Docker stack's simulator reaches Odoo by its service name)."""
    company = env.ref("base.main_company")
    env["ir.config_parameter"].set_param("web.base.url", base_url)
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    provider = env.ref("isp_mpesa.payment_provider_mpesa").with_company(company)
    provider.write(
        {
            **{f"mpesa_{key}": value for key, value in DARAJA_KEYS.items()},
            "mpesa_base_url": daraja_url,
            "mpesa_callback_base_url": callback_url or base_url,
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


def live_payments(base_url, daraja_url, alive=lambda: True, timeout=600):
    """Once Odoo answers on ``base_url``: the paybill payments of
    LIVE_PAYMENTS, through the Daraja simulator's callbacks to that Odoo (one
    matched, one to an account that does not exist: left for an
    accountant). ``alive``: false once the Odoo it waits for is gone."""
    import time  # noqa: PLC0415

    import requests  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while alive() and time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/web/login", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    else:
        return 1
    failed = 0
    for account, amount in LIVE_PAYMENTS:
        try:
            result = pay(daraja_url, account, amount)
        except (harness.HarnessError, OSError) as exc:
            print(f"paybill payment to {account} failed: {exc}", flush=True)
            failed = 1
            continue
        print(
            f"Paybill payment: KES {amount:,} to account {account} "
            f"(M-PESA receipt {result['trans_id']})",
            flush=True,
        )
    return failed


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
    parser.add_argument(
        "--callback-url", help="Odoo's URL for the Daraja simulator (--base-url)"
    )
    parser.add_argument("--radius-dsn", help="FreeRADIUS's database (libpq)")
    parser.add_argument("--nas-url", help="the NAS simulator's control API")
    parser.add_argument("--nas-ip", default=NAS_IP, help="the NAS simulator's IP")
    parser.add_argument("--nas-coa-port", type=int, help="its CoA port (UDP)")
    parser.add_argument(
        "--radius-secret",
        default=RADIUS_SECRET,
        help="the NAS simulator's shared secret (FreeRADIUS and CoA)",
    )
    parser.add_argument(
        "--live-payments",
        metavar="BASE_URL",
        help="once Odoo answers on BASE_URL, make LIVE_PAYMENTS (the Docker "
        "stack; tests/serve makes them itself)",
    )
    parser.add_argument("--configure-only", action="store_true")
    parser.add_argument("--pay", nargs=2, metavar=("ACCOUNT", "AMOUNT"))
    args = parser.parse_args(argv)
    if args.live_payments:
        return live_payments(args.live_payments, args.daraja_url)
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
        configure(env, args.daraja_url, args.sms_url, args.base_url, args.callback_url)
        if args.radius_dsn and "isp.radius.nas" in env:
            configure_radius(
                env, args.radius_dsn, args.nas_coa_port, args.nas_ip, args.radius_secret
            )
            # FreeRADIUS reads the rows once they are committed.
            cr.commit()
            traffic(env, args.nas_url)
    # The commit above runs the pushes (CoA to the NAS simulator).
    return 0


if __name__ == "__main__":
    sys.exit(main())
