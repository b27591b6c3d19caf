"""The rights suite: every public method of the three add-ons, found in Odoo's
registry (so a method is covered the day it is added), called over real HTTP
and JSON-RPC (``/web/dataset/call_kw``) as each role, on a record of its model:
refused unless the method is meant for that role (``ALLOWED``, a reason each),
and the record unchanged. Then ``write`` and ``unlink`` on the money records
(M-PESA ledger and callbacks, dunning history, events, billed periods): refused
for every role.

In Odoo every public method of a model is an RPC endpoint: it must check the
caller's rights before any ``sudo()``.
"""

import inspect
import secrets
from datetime import date

import pytest
import requests

OUR_ADDONS = ("isp_billing", "isp_radius", "isp_mpesa", "isp_sale", "isp_payment_risk")
# Odoo's ORM API that our classes override: its rights are the ACLs and rules,
# checked by the money-record part below.
ORM_API = {
    "create",
    "write",
    "unlink",
    "copy",
    "read",
    "search",
    "default_get",
    "init",
    "pool",
    "fields_get",
    "name_create",
    "read_group",
}
ROLES = ("anonymous", "portal", "portal_other", "isp_user", "invoicing", "isp_manager")
LOGGED_IN = set(ROLES) - {"anonymous"}
STAFF = {"isp_user", "isp_manager"}
ACCOUNTING = {"invoicing", "isp_user", "isp_manager"}  # ISP / User implies it

NAVIGATION = (
    "opens a list: writes nothing, and the list shows only what the caller's "
    "own rules let them read"
)
ALLOWED = {
    ("isp.subscription", "action_view_invoices"): (LOGGED_IN, NAVIGATION),
    ("res.partner", "action_view_isp_subscriptions"): (LOGGED_IN, NAVIGATION),
    ("product.template", "action_view_isp_subscriptions"): (LOGGED_IN, NAVIGATION),
    **{
        (model, "action_view_isp_open_items"): (
            ACCOUNTING,
            "opens the customer's open journal items (the Balance button): writes "
            "nothing; Invoicing users only (isp_billing/README.md)",
        )
        for model in ("isp.subscription", "res.partner")
    },
    **{
        ("isp.subscription", method): (STAFF, "ISP staff run subscriptions")
        for method in (
            "action_activate",
            "action_suspend",
            "action_reactivate",
            "action_promise_to_pay",
            "action_autopay_enable",
            "action_autopay_disable",
            "action_retry_billing",
            "action_radius_sync",
            "action_mpesa_request_payment",
        )
    },
    ("isp.subscription", "action_terminate"): (
        {"isp_manager"},
        "termination is an ISP manager's act (README: Rights)",
    ),
    ("isp.subscription", "action_bill_now"): (
        {"isp_manager"},
        "billing runs are ISP managers' (README: Rights)",
    ),
    ("isp.billing.wizard", "action_preview"): ({"isp_manager"}, "a billing run"),
    ("isp.billing.wizard", "action_bill"): ({"isp_manager"}, "a billing run"),
    **{
        ("isp.subscriber.import.wizard", method): (
            {"isp_manager"},
            "the migration import is an ISP manager's (isp_billing/README.md: "
            "Importing subscribers)",
        )
        for method in (
            "action_dry_run",
            "action_import",
            "action_refresh",
            "action_download_template",
        )
    },
    ("isp.subscription.change.plan", "action_confirm"): (STAFF, "ISP staff"),
    ("isp.subscription.state.wizard", "action_confirm"): (
        STAFF,
        "ISP staff suspend and reactivate (termination: managers, checked by "
        "action_terminate)",
    ),
    ("account.move", "action_print_pdf"): (
        ACCOUNTING,
        "Odoo's Print of an invoice: whoever may read it downloads its PDF, "
        "made once in portal link mode (isp_billing/README.md)",
    ),
    ("account.move", "action_mpesa_request_payment"): (
        ACCOUNTING,
        "asking a customer to pay an invoice is an accountant's act",
    ),
    ("isp.mpesa.request", "action_send"): (
        ACCOUNTING,
        "asking a customer to pay an invoice is an accountant's act",
    ),
    ("isp.dashboard", "get_dashboard_data"): (
        STAFF,
        "the ISP app's landing dashboard: reads figures, writes nothing; ISP "
        "staff only (isp_billing/README.md: Dashboard)",
    ),
    ("isp.dashboard", "get_dashboard_chart_action"): (
        STAFF,
        "the action of the dashboard chart's bar a user clicked: reads, writes "
        "nothing; ISP staff only, checked before its arguments "
        "(isp_billing/README.md: Dashboard)",
    ),
    **{
        ("isp.report.aging.wizard", method): (
            ACCOUNTING,
            "the receivables aging as of a date (list or PDF): reads, writes "
            "nothing; accounting roles (isp_billing/README.md: Collections and "
            "aging definitions)",
        )
        for method in ("action_open", "action_print")
    },
    ("res.partner", "action_isp_sale_summary"): (
        {"isp_user", "invoicing", "isp_manager"},
        "the customer's internet service in a read-only dialog: writes "
        "nothing; sales, ISP and accounting staff (isp_sale/README.md)",
    ),
    # isp_sale's order, lead and task actions: Sales, CRM and Project users
    # only, none of the roles here.
    **{
        ("isp.payment.risk.model", method): (
            {"isp_manager"},
            "training and scoring the payment risk are ISP managers' "
            "(isp_payment_risk/README.md: Access)",
        )
        for method in ("action_train_now", "action_score_now")
    },
    ("res.config.settings", "action_isp_radius_reconcile"): (
        {"isp_manager"},
        "an ISP manager may re-sync FreeRADIUS with Odoo (isp_radius/README.md)",
    ),
    # Assigning an M-PESA receipt is the accounting Administrator's act
    # (account.group_account_manager, isp_mpesa/README.md: Security): none of
    # the roles here, ISP staff included (ISP / User implies Invoicing).
    # Everything else (the M-PESA provider's actions, reprocessing a callback,
    # the FreeRADIUS settings' actions, Odoo's SMS queue actions) is for
    # system administrators only: none of the roles here.
}
REFUSALS = {"odoo.exceptions.AccessError", "odoo.http.SessionExpiredException"}

RUN = secrets.token_hex(3)


def public_methods(registry):
    """``{(model, method): function}`` of every public method defined by the
    add-ons' classes."""
    found = {}
    for model in sorted(registry.models):
        for klass in registry[model].__mro__:
            if getattr(klass, "_module", None) not in OUR_ADDONS:
                continue
            for name, value in vars(klass).items():
                if (
                    name.startswith("_")
                    or name in ORM_API
                    or not callable(value)
                    or isinstance(value, type)
                ):
                    continue
                found.setdefault((model, name), value)
    return found


def dummy_args(function):
    """None for each required argument after ``self``: a method that checks the
    caller's rights first refuses before it looks at them."""
    params = list(inspect.signature(inspect.unwrap(function)).parameters.values())[1:]
    return [
        None
        for p in params
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


class Rpc:
    def __init__(self, url, db, login=None, password=None):
        self.url = url
        self.session = requests.Session()
        if login:
            answer = self.session.post(
                f"{url}/web/session/authenticate",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"db": db, "login": login, "password": password},
                },
                timeout=60,
            ).json()
            assert answer.get("result", {}).get("uid"), answer

    def call(self, model, method, args, kwargs=None):
        answer = self.session.post(
            f"{self.url}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs or {},
                },
            },
            timeout=120,
        )
        assert answer.status_code == 200, (model, method, answer.status_code)
        return answer.json()


def sale_records(env, customer, plan, company):
    """isp_sale's records: a confirmed order (its draft subscription), its
    customer's lead, an installation task of the order's plan line."""
    if "isp_sale_anchor" not in env["res.company"]._fields:
        return {}
    order = env["sale.order"].create(
        {
            "partner_id": customer.id,
            # a service address in the demo's coverage (Nairobi)
            "partner_shipping_id": env["res.partner"]
            .create(
                {
                    "name": f"Rights service address {RUN}",
                    "parent_id": customer.id,
                    "type": "delivery",
                    "city": "Nairobi",
                    "country_id": env.ref("base.ke").id,
                }
            )
            .id,
            "company_id": company.id,
            "order_line": [(0, 0, {"product_id": plan.id})],
        }
    )
    order.action_confirm()
    project = env["project.project"].create(
        {"name": f"Rights installations {RUN}", "company_id": company.id}
    )
    task = env["project.task"].create(
        {
            "name": "Rights installation",
            "project_id": project.id,
            "sale_line_id": order.order_line[:1].id,
        }
    )
    lead = env["crm.lead"].create(
        {"name": "Rights lead", "partner_id": customer.id, "company_id": company.id}
    )
    return {"sale.order": order, "project.task": task, "crm.lead": lead}


def risk_records(env, company):
    """isp_payment_risk's version record: a *Not trained* one of version 0
    (any real training of the database is a later version)."""
    if "isp.payment.risk.model" not in env:
        return {}
    Model = env["isp.payment.risk.model"]
    model = Model.search(
        [("company_id", "=", company.id), ("version", "=", 0)]
    ) or Model.create(
        {
            "company_id": company.id,
            "version": 0,
            "state": "refused",
            "refusal_data": {"code": "invoices", "count": 0, "needed": 500},
        }
    )
    return {"isp.payment.risk.model": model}


@pytest.fixture(scope="module")
def world(odoo_registry, isp_test_db):
    """Users of each role and one record of every model with public methods
    (owned by the ``portal`` user's customer where ownership applies),
    committed."""
    import odoo  # noqa: PLC0415

    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        company = env.ref("base.main_company")
        groups = {
            "portal": ["base.group_portal"],
            "portal_other": ["base.group_portal"],
            "isp_user": ["base.group_user", "isp_billing.group_isp_user"],
            "invoicing": ["base.group_user", "account.group_account_invoice"],
            "isp_manager": ["base.group_user", "isp_billing.group_isp_manager"],
        }
        users = {}
        for role, xmlids in groups.items():
            login = f"rights_{role}_{RUN}"
            env["res.users"].with_context(no_reset_password=True).create(
                {
                    "name": f"Rights {role}",
                    "login": login,
                    "password": login,
                    "email": f"{login}@example.com",
                    "company_id": company.id,
                    "company_ids": [(6, 0, company.ids)],
                    "groups_id": [(6, 0, [env.ref(x).id for x in xmlids])],
                }
            )
            users[role] = login
        customer = env["res.users"].search([("login", "=", users["portal"])]).partner_id
        plan = env["product.product"].search(
            [("isp_is_plan", "=", True), ("company_id", "in", (False, company.id))],
            limit=1,
        )
        start = date(2026, 11, 1)
        sub = env["isp.subscription"].create(
            {
                "partner_id": customer.id,
                "company_id": company.id,
                "date_start": start,
                "line_ids": [(0, 0, {"product_id": plan.id})],
            }
        )
        sub.action_activate()
        invoice = env["isp.billing.run"]._bill(sub, start)
        assert invoice, "the fixture subscription was not billed"
        provider = env.ref("isp_mpesa.payment_provider_mpesa")
        kes = env.ref("base.KES")
        ledger = env["isp.mpesa.payment"].create(
            {
                "name": f"RGT{RUN.upper()}",
                "provider_id": provider.id,
                "company_id": company.id,
                "channel": "c2b",
                "amount": 11.0,
                "currency_id": kes.id,
                "bill_ref_number": sub.account_number,
                "state": "unmatched",
            }
        )
        callback = env["isp.mpesa.callback"].create(
            {
                "provider_id": provider.id,
                "company_id": company.id,
                "kind": "c2b",
                "key": f"RGT{RUN.upper()}",
                "body": "{}",
                # failed, as the callbacks *Process again* is for (a new one
                # would be picked up by the payments job of the database)
                "state": "failed",
                "error": "rights suite",
            }
        )
        step = env["isp.dunning.step"].search(
            [("company_id", "=", company.id)], limit=1
        )
        if not step:
            env["isp.dunning.step"]._ensure_default_ladders()
            step = env["isp.dunning.step"].search(
                [("company_id", "=", company.id)], limit=1
            )
        dunning_log = env["isp.dunning.log"].create(
            {"invoice_id": invoice[:1].id, "step_id": step.id, "date": start}
        )
        records = {
            "isp.subscription": sub,
            "account.move": invoice[:1],
            "res.partner": customer,
            "product.template": plan.product_tmpl_id,
            "payment.provider": provider,
            "isp.mpesa.payment": ledger,
            "isp.mpesa.callback": callback,
            "isp.dunning.log": dunning_log,
            "isp.subscription.event": sub.event_ids[:1],
            "isp.subscription.period": sub.period_ids[:1],
            "isp.billing.wizard": env["isp.billing.wizard"].create({"scope": "due"}),
            "isp.subscription.change.plan": env["isp.subscription.change.plan"].create(
                {
                    "subscription_id": sub.id,
                    "new_plan_id": env["product.product"]
                    .search(
                        [("isp_is_plan", "=", True), ("id", "!=", plan.id)], limit=1
                    )
                    .id,
                    "date": start,
                }
            ),
            "isp.subscription.state.wizard": env[
                "isp.subscription.state.wizard"
            ].create(
                {
                    "subscription_ids": [(6, 0, sub.ids)],
                    "action": "suspend",
                    "reason": "rights suite",
                }
            ),
            "isp.mpesa.request": env["isp.mpesa.request"].create(
                {"invoice_ids": [(6, 0, invoice[:1].ids)]}
            ),
            "res.config.settings": env["res.config.settings"].create({}),
            "isp.report.aging.wizard": env["isp.report.aging.wizard"].create({}),
            "isp.subscriber.import.wizard": env["isp.subscriber.import.wizard"].create(
                {}
            ),
            "sms.sms": env["sms.sms"].create(
                {"number": "+254700000001", "body": "rights suite", "state": "error"}
            ),
            **sale_records(env, customer, plan, company),
            **risk_records(env, company),
        }
        cr.commit()
        ids = {model: rec.id for model, rec in records.items()}
        # A service model (AbstractModel) has no records: its methods are
        # called on the model (@api.model).
        ids["isp.dashboard"] = None
        return {"db": isp_test_db, "users": users, "ids": ids}


@pytest.fixture(scope="module")
def clients(world, odoo_http):
    clients = {"anonymous": Rpc(odoo_http, world["db"])}
    for role, login in world["users"].items():
        clients[role] = Rpc(odoo_http, world["db"], login, login)
    return clients


def write_date(registry, model, record_id):
    if registry[model]._abstract:
        return None  # a service model: nothing stored to change
    with registry.cursor() as cr:
        cr.execute(
            f'SELECT write_date FROM "{model.replace(".", "_")}" WHERE id = %s',  # noqa: S608
            [record_id],
        )
        row = cr.fetchone()
        return row and row[0]


def test_every_public_method_checks_the_callers_rights(odoo_registry, world, clients):
    methods = public_methods(odoo_registry)
    assert len(methods) >= 25, sorted(methods)  # the suite found the add-ons
    missing = {model for model, __ in methods} - set(world["ids"])
    assert not missing, f"add a record of {sorted(missing)} to the world fixture"
    stale = set(ALLOWED) - set(methods)
    assert not stale, f"ALLOWED names methods that no longer exist: {sorted(stale)}"
    failures = []
    for (model, method), function in sorted(methods.items()):
        record_id = world["ids"][model]
        is_model_method = getattr(function, "_api", None) == "model"
        args = ([] if is_model_method else [[record_id]]) + dummy_args(function)
        allowed, _reason = ALLOWED.get((model, method), (set(), ""))
        for role in ROLES:
            if role in allowed:
                continue
            before = write_date(odoo_registry, model, record_id)
            answer = clients[role].call(model, method, args)
            error = (answer.get("error") or {}).get("data", {}).get("name")
            after = write_date(odoo_registry, model, record_id)
            if error not in REFUSALS:
                failures.append(
                    f"{model}.{method} as {role}: not refused "
                    f"({error or answer.get('result')!r})"
                )
            elif before != after:
                failures.append(f"{model}.{method} as {role}: refused but changed")
    assert not failures, "\n".join(failures)


MONEY_WRITES = {
    "isp.mpesa.payment": {"amount": 999999.0},
    "isp.mpesa.callback": {"state": "done"},
    "isp.dunning.log": {"date": "2020-01-01"},
    "isp.subscription.event": {"recurring_monthly": 1.0},
    "isp.subscription.period": {"date_end": "2099-01-01"},
}


@pytest.mark.parametrize("model", sorted(MONEY_WRITES))
def test_money_records_cannot_be_rewritten_or_deleted(
    odoo_registry, world, clients, model
):
    record_id = world["ids"][model]
    failures = []
    for role in ROLES:
        for method, args in (
            ("write", [[record_id], MONEY_WRITES[model]]),
            ("unlink", [[record_id]]),
        ):
            before = write_date(odoo_registry, model, record_id)
            answer = clients[role].call(model, method, args)
            after = write_date(odoo_registry, model, record_id)
            if "error" not in answer:
                failures.append(f"{model}.{method} as {role}: accepted")
            elif after is None or before != after:
                failures.append(f"{model}.{method} as {role}: refused but changed")
    assert not failures, "\n".join(failures)
