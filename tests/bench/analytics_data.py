"""Set-based generator of an ISP's history for the analytics benchmark.

Writes N subscribers with M months of history into an Odoo database with
isp_billing installed, in a company of its own (*Analytics bench*, with Odoo's
generic chart of accounts), as the product would have left them:

* customers (``res.partner``), four monthly plans (1,999 / 2,999 / 4,999 /
  9,999, 16 % VAT), one subscription per customer with its plan line, in every
  state: draft (not yet installed), active (some slowed down, some flagged
  *Billing exception*), suspended (for non-payment, or by hand), terminated;
  some terminated customers come back with a new subscription;
* the append-only event log with the MRR movements the product computes
  (new, expansion / contraction on plan changes at a period start, churn on
  termination, reactivation of a returning customer; suspensions,
  reconnections and promises to pay move nothing), so that the MRR identity
  holds for every subscription and month;
* one billed period and one posted invoice per subscription and month
  (Odoo's journal items: income, tax and receivable lines, balanced, with the
  accounts, taxes, repartition lines and tax grids of an invoice Odoo
  computed), and at termination the credit note of the unused days,
  reconciled with the last invoice;
* customer payments (bank or cash journal) reconciled with the invoices
  (``account.partial.reconcile``, ``account.full.reconcile`` when settled),
  each customer with a habit: on time, late, partial, or stopping paying;
  a few payments on account (unallocated); ``amount_residual``,
  ``reconciled``, ``payment_state`` and the payments' state as Odoo computes
  them, and the invoices' settlement date (``isp_date_paid``, written as the
  18.0.1.8.0 migration writes it); auto-pay attempts (paid, declined,
  retried).

The ORM is used only for the set-up (company, chart, journals, tax, plans)
and to let Odoo compute one *draft* invoice, credit note and payment whose
lines are the templates of the rows written (then deleted). Everything else
is ``INSERT ... SELECT`` over ``generate_series``, chunk by chunk, with a
commit after each chunk (``commit`` callable). Deterministic: the same N, M
and ``today`` give the same book (pseudo-random numbers are hashes of the
subscriber's index). ``ANALYZE`` at the end.

Used by ``tests/bench/analytics_run.py`` and ``tests/test_analytics_bench.py``.
"""

import time
from datetime import date

from dateutil.relativedelta import relativedelta

import odoo

PLANS = (
    # (name, monthly price, share of the new subscribers)
    ("10 Mbps Home (analytics bench)", 1999.0, 0.4),
    ("20 Mbps Home (analytics bench)", 2999.0, 0.3),
    ("50 Mbps Home (analytics bench)", 4999.0, 0.2),
    ("100 Mbps Business (analytics bench)", 9999.0, 0.1),
)
VAT_RATE = 16.0
DUE_DAYS = 10  # invoices are due 10 days after their date
COMPANY_NAME = "Analytics bench"
# Shares of the book (of N subscribers)
SHARE_FROM_START = 0.6  # already subscribers in the first month
SHARE_DRAFT = 0.01  # waiting for installation
SHARE_TERMINATED = 0.25
SHARE_RETURNING = 0.3  # of the terminated, back 60 days later
SHARE_PLAN_CHANGE = 0.2
SHARE_MANUAL_SUSPENSION = 0.01
SHARE_BILLING_EXCEPTION = 0.005
SHARE_AUTOPAY = 0.3  # of the customers who pay on time
SHARE_ON_ACCOUNT = 0.03  # of those, a 500 payment on account (unallocated)
ON_ACCOUNT_AMOUNT = 500.0
# Payment habits: cumulative thresholds
HABITS = (("ontime", 0.65), ("late", 0.85), ("partial", 0.93), ("unpaid", 1.0))
SHARE_BANK = 0.6  # else cash


def say(message):
    print(message, flush=True)


# --- set-up through the ORM ------------------------------------------------------


def setup_book(env, today, name=COMPANY_NAME):
    """Create the bench company and what the rows refer to; compute through
    Odoo one draft invoice, credit note and payment per journal, read their
    lines as templates, delete them. Returns the book's configuration (ids
    and template rows), a JSON-able dict."""
    main = env.ref("base.main_company")
    company = env["res.company"].create(
        {"name": name, "currency_id": main.currency_id.id}
    )
    env.user.company_ids |= company
    admin = env.ref("base.user_admin", raise_if_not_found=False)
    if admin:
        admin.company_ids |= company
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    Journal = env["account.journal"]
    sale = Journal.search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    bank = Journal.search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    cash = Journal.search(
        [("company_id", "=", company.id), ("type", "=", "cash")], limit=1
    )
    company.write({"isp_send_invoices": False, "isp_journal_id": sale.id})
    vat = env["account.tax"].create(
        {
            "name": "VAT 16% (analytics bench)",
            "amount": VAT_RATE,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": company.id,
        }
    )
    plans = env["product.product"].create(
        [
            {
                "name": plan_name,
                "type": "service",
                "list_price": price,
                "taxes_id": [(6, 0, vat.ids)],
                "company_id": company.id,
                "isp_is_plan": True,
                "isp_download_mbps": 10 * (index + 1),
                "isp_upload_mbps": 10 * (index + 1),
                "isp_period_interval": 1,
                "isp_period_unit": "month",
                "isp_data_unlimited": True,
            }
            for index, (plan_name, price, __) in enumerate(PLANS)
        ]
    )
    partner = env["res.partner"].create(
        {"name": "Analytics bench template", "company_id": company.id}
    )
    moves = env["account.move"]
    templates = {}
    for move_type in ("out_invoice", "out_refund"):
        move = moves.create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "journal_id": sale.id,
                "invoice_date": today,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": plans[0].id,
                            "quantity": 1,
                            "price_unit": PLANS[0][1],
                            "tax_ids": [(6, 0, vat.ids)],
                        },
                    )
                ],
            }
        )
        templates[move_type] = _template_lines(env, move)
        moves |= move
    payments = env["account.payment"]
    pay_templates = {}
    for channel, journal in (("bank", bank), ("cash", cash)):
        payment = payments.create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": 100.0,
                "journal_id": journal.id,
                "date": today,
            }
        )
        payments |= payment
        # a draft payment has no journal entry yet: its accounts are those of
        # the one posting makes (liquidity: the outstanding receipts account)
        liquidity = payment.outstanding_account_id
        pay_templates[channel] = {
            "journal_id": journal.id,
            "journal_code": journal.code,
            "payment_method_line_id": payment.payment_method_line_id.id,
            "payment_method_id": payment.payment_method_line_id.payment_method_id.id,
            "outstanding_account_id": liquidity.id or None,
            "liquidity_account_id": liquidity.id,
            # a liquidity account matched later (outstanding receipts) leaves
            # the payment "in process" until its invoice is paid
            "liquidity_reconcile": bool(liquidity.reconcile),
            "liquidity_keeps_residual": bool(
                liquidity.reconcile
                or liquidity.account_type in ("asset_cash", "liability_credit_card")
            ),
            "receivable_account_id": payment.destination_account_id.id,
        }
    payments.unlink()
    moves.unlink()
    partner.unlink()
    env.flush_all()
    return {
        "company_id": company.id,
        "currency_id": company.currency_id.id,
        "uid": env.uid,
        "sale_journal_id": sale.id,
        "sale_journal_code": sale.code,
        "refund_prefix": "R" + sale.code if sale.refund_sequence else sale.code,
        "tax_id": vat.id,
        "plans": [
            {"id": plan.id, "name": plan.name, "price": price, "share": share}
            for plan, (__, price, share) in zip(plans, PLANS, strict=True)
        ],
        "invoice_lines": templates["out_invoice"],
        "refund_lines": templates["out_refund"],
        "payments": pay_templates,
        # Odoo Community: "paid" (Odoo's accounting app: "in_payment")
        "paid_state": env["account.move"]._get_invoice_in_payment_state(),
    }


def _template_lines(env, move):
    """The journal items Odoo computed for a draft ``move``, as templates:
    per line its kind and the columns the bench copies."""
    env.flush_all()
    lines = []
    for line in move.line_ids.sorted(lambda line: (line.sequence, line.id)):
        lines.append(
            {
                "display_type": line.display_type,
                "sequence": line.sequence,
                "account_id": line.account_id.id,
                "name": line.name or "",
                "product_uom_id": line.product_uom_id.id or None,
                "tax_line_id": line.tax_line_id.id or None,
                "tax_group_id": line.tax_group_id.id or None,
                "tax_repartition_line_id": line.tax_repartition_line_id.id or None,
                "tax_tag_invert": bool(line.tax_tag_invert),
                "tax_ids": line.tax_ids.ids,
                "tag_ids": line.tax_tag_ids.ids,
            }
        )
    kinds = sorted(line["display_type"] for line in lines)
    if kinds != ["payment_term", "product", "tax"]:
        raise RuntimeError(f"unexpected template invoice lines: {kinds}")
    return lines


# --- the rows, set-based ------------------------------------------------------------


def _rnd_function(cr):
    """``pg_temp.rnd(k, salt)``: a pseudo-random number in [0, 1) from a hash
    of ``k`` and ``salt`` (deterministic, session-local)."""
    cr.execute(
        """
        CREATE OR REPLACE FUNCTION pg_temp.rnd(k bigint, salt text)
        RETURNS float8 LANGUAGE sql IMMUTABLE AS
        $$ SELECT (hashtext(k::text || ':' || salt) & 2147483647)::float8
                  / 2147483648 $$
        """
    )


def _plan_case(cfg, column):
    """SQL: the plan index (1-4) picked by ``column`` (a number in [0, 1))."""
    parts, cumulative = [], 0.0
    for index, plan in enumerate(cfg["plans"][:-1], start=1):
        cumulative += plan["share"]
        parts.append(f"WHEN {column} < {cumulative} THEN {index}")
    return f"CASE {' '.join(parts)} ELSE {len(cfg['plans'])} END"


def _habit_case(column):
    parts = [f"WHEN {column} < {limit} THEN '{habit}'" for habit, limit in HABITS[:-1]]
    return f"CASE {' '.join(parts)} ELSE '{HABITS[-1][0]}' END"


def _months_between(start, end):
    return (
        f"((extract(year FROM age({end}, {start})) * 12"
        f" + extract(month FROM age({end}, {start})))::int)"
    )


def generate(cr, cfg, n, months, today, chunk=5000, commit=None, say=say):
    """Write ``n`` subscribers with ``months`` months of history ending with
    the month of ``today`` into the bench company of ``cfg``, ``chunk``
    subscribers per transaction (``commit()`` after each: ``cr.commit`` for
    the benchmark, nothing for a test that rolls back). Returns counts and
    seconds."""
    started = time.monotonic()
    first_month = today.replace(day=1) - relativedelta(months=months - 1)
    _rnd_function(cr)
    params = {
        "today": today,
        "first_month": first_month,
        "months": months,
        "company": cfg["company_id"],
        "currency": cfg["currency_id"],
        "uid": cfg["uid"],
        "prices": [plan["price"] for plan in cfg["plans"]],
        "plan_ids": [plan["id"] for plan in cfg["plans"]],
        "plan_names": [plan["name"] for plan in cfg["plans"]],
    }
    steps = {}
    for start in range(1, n + 1, chunk):
        stop = min(n, start + chunk - 1)
        _generate_chunk(
            cr, cfg, dict(params, k_from=start, k_to=stop, step_seconds=steps)
        )
        if commit:
            commit()
        elapsed = time.monotonic() - started
        say(f"  subscribers {stop:,} / {n:,} written ({elapsed:.0f} s)")
    # the reconciliations were written in SQL: the invoices' stored
    # settlement date is written from them as the 18.0.1.8.0 migration
    # writes it
    from odoo.addons.isp_billing.tools.settlement import (  # noqa: PLC0415
        fill_date_paid,
    )

    settled = time.monotonic()
    fill_date_paid(cr)
    steps["date_paid"] = time.monotonic() - settled
    # the events were written in SQL: the stored MRR ledger is made from them
    # as the product makes it on install (README, "Where the MRR figures come
    # from")
    ledger = time.monotonic()
    odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["isp.mrr.ledger"]._rebuild()
    steps["mrr_ledger"] = time.monotonic() - ledger
    if commit:
        commit()
    counts = book_counts(cr, cfg)
    analyzed = time.monotonic()
    if commit:
        cr.execute("ANALYZE")
    counts["analyze_s"] = round(time.monotonic() - analyzed, 1)
    counts["seconds"] = round(time.monotonic() - started, 1)
    counts["step_seconds"] = {k: round(v, 1) for k, v in steps.items()}
    return counts


def book_counts(cr, cfg):
    company = cfg["company_id"]
    counts = {}
    for key, query in (
        (
            "subscriptions",
            "SELECT count(*) FROM isp_subscription WHERE company_id = %s",
        ),
        ("events", "SELECT count(*) FROM isp_subscription_event WHERE company_id = %s"),
        (
            "invoices",
            "SELECT count(*) FROM account_move WHERE company_id = %s"
            " AND move_type = 'out_invoice'",
        ),
        (
            "credit_notes",
            "SELECT count(*) FROM account_move WHERE company_id = %s"
            " AND move_type = 'out_refund'",
        ),
        ("payments", "SELECT count(*) FROM account_payment WHERE company_id = %s"),
        (
            "journal_items",
            "SELECT count(*) FROM account_move_line WHERE company_id = %s",
        ),
        (
            "partials",
            "SELECT count(*) FROM account_partial_reconcile WHERE company_id = %s",
        ),
    ):
        cr.execute(query, [company])
        counts[key] = cr.fetchone()[0]
    return counts


def _generate_chunk(cr, cfg, p):
    steps = p.setdefault("step_seconds", {})

    def step(name, function, *analyze):
        started = time.monotonic()
        function(cr, cfg, p)
        if analyze:
            cr.execute(f"ANALYZE {', '.join(analyze)}")
        steps[name] = steps.get(name, 0.0) + time.monotonic() - started

    step("lifecycles", _life, "bench_life")
    step("periods and payments (temp)", _periods, "bench_period", "bench_payment")
    step("partners, subscriptions", _insert_partners_and_subscriptions)
    step("events", _insert_events)
    step("invoices, credit notes", _insert_invoices)
    step("payments, reconciliation", _insert_payments)
    step("auto-pay attempts", _insert_autopay)
    cr.execute("DROP TABLE bench_life, bench_period, bench_payment")
    # fresh statistics for the next chunk's joins (a new database's tables
    # were empty when last analyzed)
    started = time.monotonic()
    cr.execute(
        "ANALYZE account_move, account_move_line, account_partial_reconcile,"
        " account_payment"
    )
    steps["analyze"] = steps.get("analyze", 0.0) + time.monotonic() - started


def _life(cr, cfg, p):
    """``bench_life``: one row per subscription of the chunk, its lifecycle."""
    months_to_today = _months_between("start", "%(today)s::date")
    cr.execute(
        f"""
        CREATE TEMP TABLE bench_life AS
        WITH base AS (
            SELECT k,
                   (%(first_month)s::date
                    + make_interval(months => CASE
                        WHEN pg_temp.rnd(k, 's') < {SHARE_FROM_START} THEN 0
                        ELSE floor(pg_temp.rnd(k, 's2') * %(months)s)::int END,
                        days => floor(pg_temp.rnd(k, 'd') * 28)::int))::date
                       AS start,
                   {_plan_case(cfg, "pg_temp.rnd(k, 'p')")} AS plan0,
                   {_habit_case("pg_temp.rnd(k, 'b')")} AS habit,
                   pg_temp.rnd(k, 'ch') < {SHARE_BANK} AS bank
              FROM generate_series(%(k_from)s::int, %(k_to)s::int) k
        ),
        first AS (
            SELECT b.*, false AS comeback,
                   b.start > %(today)s OR pg_temp.rnd(k, 'dr') < {SHARE_DRAFT}
                       AS draft,
                   CASE WHEN b.start > %(today)s THEN 0
                        ELSE {months_to_today} + 1 END AS nper
              FROM base b
        ),
        first_end AS (
            SELECT f.*,
                   NOT f.draft AND f.nper >= 2
                       AND pg_temp.rnd(k, 't') < {SHARE_TERMINATED} AS terminated
              FROM first f
        ),
        first_last AS (
            SELECT f.*,
                   CASE WHEN f.terminated
                        THEN floor(pg_temp.rnd(k, 't2') * (f.nper - 1))::int
                        ELSE f.nper - 1 END AS last_idx
              FROM first_end f
        ),
        first_term AS (
            SELECT f.*,
                   CASE WHEN f.terminated THEN
                       (f.start + make_interval(months => f.last_idx,
                           days => 1 + floor(pg_temp.rnd(k, 't3') * 27)::int))::date
                   END AS term_date
              FROM first_last f
        ),
        back AS (
            -- a terminated customer back 60 days later with a new subscription
            SELECT k, term_date + 60 AS start, plan0, 'ontime' AS habit, bank,
                   true AS comeback, false AS draft,
                   {_months_between("term_date + 60", "%(today)s::date")} + 1
                       AS nper,
                   false AS terminated
              FROM first_term
             WHERE terminated AND term_date + 60 <= %(today)s
               AND pg_temp.rnd(k, 'back') < {SHARE_RETURNING}
        ),
        subs AS (
            SELECT k, start, plan0, habit, bank, comeback, draft, nper,
                   terminated, last_idx, term_date
              FROM first_term
             UNION ALL
            SELECT k, start, plan0, habit, bank, comeback, draft, nper,
                   terminated, nper - 1, NULL::date
              FROM back
        )
        SELECT s.*,
               -- sub: a number of the subscription for the pseudo-random draws
               s.k * 2 + s.comeback::int AS sub,
               CASE WHEN NOT s.draft AND NOT s.comeback AND s.last_idx >= 1
                         AND pg_temp.rnd(s.k, 'c') < {SHARE_PLAN_CHANGE}
                    THEN 1 + floor(pg_temp.rnd(s.k, 'c2') * s.last_idx)::int
               END AS change_idx,
               (s.plan0 + floor(pg_temp.rnd(s.k, 'c3') * 3)::int) %% 4 + 1 AS plan1,
               NOT s.draft AND s.habit = 'ontime'
                   AND pg_temp.rnd(s.k * 2 + s.comeback::int, 'ap') < {SHARE_AUTOPAY}
                   AS autopay,
               NOT s.draft AND pg_temp.rnd(s.k * 2 + s.comeback::int, 'x')
                   < {SHARE_BILLING_EXCEPTION} AS billing_exception,
               -- unpaid habit: the last two invoices stay unpaid; suspended 7
               -- days after the first one's due date
               CASE WHEN s.habit = 'unpaid' AND NOT s.draft AND s.last_idx >= 1 THEN
                   (s.start + make_interval(months => s.last_idx - 1))::date
                       + {DUE_DAYS}
               END AS unpaid_due,
               -- a past suspension by the dunning ladder, reconnected 5 days later
               CASE WHEN s.habit = 'late' AND NOT s.draft AND s.last_idx >= 2
                         AND pg_temp.rnd(s.k, 'sh') < 0.3 THEN
                   (s.start + make_interval(months => 1))::date + {DUE_DAYS} + 7
               END AS past_suspension,
               NULL::int AS partner_id, NULL::int AS sub_id, NULL::int AS line_id,
               NULL::text AS state, NULL::date AS state_date,
               NULL::text AS suspension_kind, false AS throttled
          FROM subs s
        """,
        p,
    )
    cr.execute(
        f"""
        UPDATE bench_life SET
            state = CASE
                WHEN draft THEN 'draft'
                WHEN terminated THEN 'terminated'
                WHEN unpaid_due + 7 <= %(today)s
                     AND pg_temp.rnd(sub, 'th') >= 0.3 THEN 'suspended'
                WHEN pg_temp.rnd(sub, 'ms') < {SHARE_MANUAL_SUSPENSION}
                     AND start < %(today)s - 20 THEN 'suspended'
                ELSE 'active' END,
            suspension_kind = CASE
                WHEN draft OR terminated THEN NULL
                WHEN unpaid_due + 7 <= %(today)s
                     AND pg_temp.rnd(sub, 'th') >= 0.3 THEN 'nonpayment'
                WHEN pg_temp.rnd(sub, 'ms') < {SHARE_MANUAL_SUSPENSION}
                     AND start < %(today)s - 20 THEN 'manual' END,
            -- the dunning ladder slowed the others down instead
            throttled = NOT draft AND NOT terminated AND unpaid_due < %(today)s
                AND pg_temp.rnd(sub, 'th') < 0.3
        """,
        p,
    )
    cr.execute(
        """
        UPDATE bench_life SET state_date = CASE
            WHEN state = 'terminated' THEN term_date
            WHEN suspension_kind = 'nonpayment' THEN unpaid_due + 7
            WHEN suspension_kind = 'manual'
                THEN %(today)s::date - 1 - floor(pg_temp.rnd(sub, 'ms2') * 19)::int
            WHEN state = 'active' THEN start
        END
        """,
        p,
    )
    # ids: partners for the first subscriptions, the comeback ones share them
    cr.execute(
        """
        UPDATE bench_life SET partner_id = nextval('res_partner_id_seq')
         WHERE NOT comeback
        """
    )
    cr.execute(
        """
        UPDATE bench_life b SET partner_id = f.partner_id
          FROM bench_life f WHERE b.comeback AND f.k = b.k AND NOT f.comeback
        """
    )
    cr.execute(
        """
        UPDATE bench_life SET sub_id = nextval('isp_subscription_id_seq'),
                              line_id = nextval('isp_subscription_line_id_seq')
        """
    )


def _periods(cr, cfg, p):
    """``bench_period``: one row per billed period (invoice) of the chunk, with
    its amounts, credit note and payments; ``bench_payment``: the payments."""
    cr.execute(
        f"""
        CREATE TEMP TABLE bench_period AS
        WITH per AS (
            SELECT l.sub, l.k, l.sub_id, l.partner_id, l.habit, l.bank,
                   l.last_idx, l.terminated, l.term_date, j,
                   (l.start + make_interval(months => j))::date AS pstart,
                   (l.start + make_interval(months => j + 1))::date AS pend,
                   CASE WHEN l.change_idx IS NOT NULL AND j >= l.change_idx
                        THEN (%(prices)s::numeric[])[l.plan1]
                        ELSE (%(prices)s::numeric[])[l.plan0] END AS untaxed,
                   CASE WHEN l.change_idx IS NOT NULL AND j >= l.change_idx
                        THEN l.plan1 ELSE l.plan0 END AS plan
              FROM bench_life l
        CROSS JOIN generate_series(0, l.last_idx) j
             WHERE NOT l.draft
        ),
        amounts AS (
            SELECT per.*, round(untaxed * {VAT_RATE / 100}, 2) AS tax,
                   CASE WHEN terminated AND j = last_idx THEN
                       round(untaxed * (pend - term_date) / (pend - pstart), 2)
                   ELSE 0 END AS cn_untaxed
              FROM per
        )
        SELECT a.*, a.untaxed + a.tax AS total,
               round(a.cn_untaxed * {VAT_RATE / 100}, 2) AS cn_tax,
               a.cn_untaxed + round(a.cn_untaxed * {VAT_RATE / 100}, 2) AS cn_total,
               a.pstart + {DUE_DAYS} AS due,
               nextval('account_move_id_seq')::int AS move_id,
               nextval('account_move_line_id_seq')::int AS recv_line_id,
               NULL::int AS cn_move_id, NULL::int AS cn_recv_line_id,
               nextval('isp_subscription_period_id_seq')::int AS period_id
          FROM amounts a
        """,
        p,
    )
    cr.execute(
        """
        UPDATE bench_period SET cn_move_id = nextval('account_move_id_seq'),
                                cn_recv_line_id = nextval('account_move_line_id_seq')
         WHERE cn_untaxed > 0
        """
    )
    # Payments: what each habit pays of (total - credit note), and when;
    # those dated after today are not made yet.
    cr.execute(
        f"""
        CREATE TEMP TABLE bench_payment AS
        WITH topay AS (
            SELECT per.*, total - cn_total AS due_amount,
                   pg_temp.rnd(sub * 100 + j, 'p1') AS r1,
                   pg_temp.rnd(sub * 100 + j, 'p2') AS r2
              FROM bench_period per
        ),
        pays AS (
            SELECT t.*, 1 AS nth,
                   CASE WHEN habit = 'partial' THEN round(due_amount / 2, 2)
                        ELSE due_amount END AS amount,
                   CASE WHEN habit = 'late'
                        THEN pstart + {DUE_DAYS} + 1 + floor(r1 * 40)::int
                        ELSE pstart + floor(r1 * 10)::int END AS pay_date
              FROM topay t
             WHERE NOT (habit = 'unpaid' AND j >= last_idx - 1)
            UNION ALL
            SELECT t.*, 2, due_amount - round(due_amount / 2, 2),
                   pstart + {DUE_DAYS} + 1 + floor(r2 * 60)::int
              FROM topay t
             WHERE habit = 'partial' AND r2 >= 0.2
            UNION ALL
            -- a payment on account, matched to nothing
            SELECT t.*, 3, {ON_ACCOUNT_AMOUNT}, pstart + 5
              FROM topay t
             WHERE habit = 'ontime' AND j = last_idx
               AND pg_temp.rnd(sub, 'xa') < {SHARE_ON_ACCOUNT}
        )
        SELECT sub, sub_id, partner_id, bank, move_id AS invoice_move_id,
               recv_line_id AS invoice_line_id, pstart AS invoice_date, nth,
               amount, pay_date,
               nextval('account_payment_id_seq')::int AS payment_id,
               nextval('account_move_id_seq')::int AS pay_move_id,
               nextval('account_move_line_id_seq')::int AS liquidity_line_id,
               nextval('account_move_line_id_seq')::int AS counterpart_line_id
          FROM pays
         WHERE pay_date <= %(today)s AND amount > 0
        """,
        p,
    )


def _insert_partners_and_subscriptions(cr, cfg, p):
    cr.execute(
        """
        INSERT INTO res_partner (
            id, name, complete_name, company_id, commercial_partner_id, type,
            active, is_company, partner_share, customer_rank, supplier_rank, lang,
            tz, email, ref, autopost_bills, create_uid, write_uid, create_date,
            write_date)
        SELECT partner_id, 'Bench customer ' || lpad(k::text, 7, '0'),
               'Bench customer ' || lpad(k::text, 7, '0'), %(company)s, partner_id,
               'contact', true, false, true, 1, 0, 'en_US', 'Africa/Nairobi',
               'bench.' || k || '@example.com', 'BENCH' || lpad(k::text, 7, '0'),
               'ask', %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM bench_life WHERE NOT comeback
        """,
        p,
    )
    cr.execute(
        """
        INSERT INTO isp_subscription (
            id, partner_id, service_partner_id, company_id, currency_id, plan_id,
            account_number, tz, state, state_reason, suspension_kind, state_date,
            date_start, billing_anchor_date, next_invoice_date, billed_until,
            date_end, recurring_total, recurring_monthly, autopay,
            promise_reactivated, throttled, date_end_credit, billing_exception,
            billing_exception_reason, create_uid, write_uid, create_date,
            write_date)
        SELECT l.sub_id, l.partner_id, l.partner_id, %(company)s, %(currency)s,
               (%(plan_ids)s::int[])[cur.plan],
               'B' || %(company)s || '-' || lpad(l.sub::text, 8, '0'),
               'Africa/Nairobi', l.state,
               CASE l.state WHEN 'terminated' THEN 'Subscription terminated'
                            WHEN 'suspended' THEN 'Suspended'
                            WHEN 'active' THEN 'Subscription started' END,
               l.suspension_kind, l.state_date, l.start, l.start,
               CASE WHEN l.state IN ('active', 'suspended')
                    THEN (l.start + make_interval(months => l.last_idx + 1))::date
               END,
               CASE WHEN NOT l.draft
                    THEN (l.start + make_interval(months => l.last_idx + 1))::date
               END,
               l.term_date, (%(prices)s::numeric[])[cur.plan],
               CASE WHEN l.state IN ('active', 'suspended')
                    THEN (%(prices)s::numeric[])[cur.plan] ELSE 0 END,
               false, false, l.throttled, l.terminated, l.billing_exception,
               CASE WHEN l.billing_exception
                    THEN 'The customer''s receivable account is closed.' END,
               %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM bench_life l,
       LATERAL (SELECT CASE WHEN l.change_idx IS NOT NULL THEN l.plan1
                            ELSE l.plan0 END AS plan) cur
        """,
        p,
    )
    cr.execute(
        """
        INSERT INTO isp_subscription_line (
            id, subscription_id, company_id, sequence, product_id, line_type, name,
            quantity, price_unit, price_subtotal, invoiced, create_uid, write_uid,
            create_date, write_date)
        SELECT l.line_id, l.sub_id, %(company)s, 10,
               (%(plan_ids)s::int[])[cur.plan], 'plan',
               (%(plan_names)s::text[])[cur.plan], 1,
               (%(prices)s::numeric[])[cur.plan], (%(prices)s::numeric[])[cur.plan],
               false, %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM bench_life l,
       LATERAL (SELECT CASE WHEN l.change_idx IS NOT NULL THEN l.plan1
                            ELSE l.plan0 END AS plan) cur
        """,
        p,
    )


def _insert_events(cr, cfg, p):
    """The event log, in date order per subscription (ids ascending: the
    product reads a subscription's previous event by id)."""
    cr.execute(
        """
        WITH ev AS (
            -- activation: new, or reactivation of a returning customer
            SELECT l.sub_id, l.partner_id, 0 AS ord, l.start AS day, 'new' AS type,
                   NULL::int AS old_plan, l.plan0 AS new_plan,
                   (%(prices)s::numeric[])[l.plan0] AS after,
                   (%(prices)s::numeric[])[l.plan0] AS change,
                   CASE WHEN l.comeback THEN 'reactivation' ELSE 'new' END
                       AS movement,
                   NULL::date AS promise_until, 'Subscription started' AS reason
              FROM bench_life l WHERE NOT l.draft
            UNION ALL
            -- plan change at a period start: the full monthly difference
            SELECT l.sub_id, l.partner_id, 1,
                   (l.start + make_interval(months => l.change_idx))::date,
                   CASE WHEN (%(prices)s::numeric[])[l.plan1]
                             > (%(prices)s::numeric[])[l.plan0]
                        THEN 'upgrade' ELSE 'downgrade' END,
                   l.plan0, l.plan1, (%(prices)s::numeric[])[l.plan1],
                   (%(prices)s::numeric[])[l.plan1] - (%(prices)s::numeric[])[l.plan0],
                   CASE WHEN (%(prices)s::numeric[])[l.plan1]
                             > (%(prices)s::numeric[])[l.plan0]
                        THEN 'expansion' ELSE 'contraction' END,
                   NULL, 'Plan changed'
              FROM bench_life l WHERE l.change_idx IS NOT NULL
            UNION ALL
            -- a past suspension for non-payment and its reconnection
            SELECT l.sub_id, l.partner_id, 2, d.day, d.type, NULL, NULL,
                   CASE WHEN l.change_idx <= 1 THEN (%(prices)s::numeric[])[l.plan1]
                        ELSE (%(prices)s::numeric[])[l.plan0] END,
                   0, NULL, NULL, d.reason
              FROM bench_life l,
           LATERAL (VALUES (l.past_suspension, 'suspension', 'Unpaid invoices'),
                           (l.past_suspension + 5, 'reactivation',
                            'Overdue invoices paid')) d(day, type, reason)
             WHERE l.past_suspension IS NOT NULL
            UNION ALL
            -- promises to pay of late payers, 3 days after a due date
            SELECT per.sub_id, per.partner_id, 3, per.due + 3, 'promise', NULL,
                   NULL, per.untaxed, 0, NULL, per.due + 10, 'Promise to pay'
              FROM bench_period per
             WHERE per.habit = 'late' AND per.due + 3 <= %(today)s
               AND (per.term_date IS NULL OR per.due + 3 < per.term_date)
               AND pg_temp.rnd(per.sub * 100 + per.j, 'pr') < 0.3
            UNION ALL
            -- the current suspension
            SELECT l.sub_id, l.partner_id, 4, l.state_date, 'suspension', NULL,
                   NULL, (%(prices)s::numeric[])[
                       CASE WHEN (l.start + make_interval(months => l.change_idx))::date
                                 <= l.state_date THEN l.plan1
                            ELSE l.plan0 END],
                   0, NULL, NULL,
                   CASE l.suspension_kind WHEN 'manual' THEN 'Suspended by hand'
                        ELSE 'Unpaid invoices' END
              FROM bench_life l WHERE l.state = 'suspended'
            UNION ALL
            -- termination: churn of the MRR it had
            SELECT l.sub_id, l.partner_id, 5, l.term_date, 'termination', NULL,
                   NULL, 0,
                   -(%(prices)s::numeric[])[
                       CASE WHEN l.change_idx IS NOT NULL THEN l.plan1
                            ELSE l.plan0 END],
                   'churn', NULL, 'Subscription terminated'
              FROM bench_life l WHERE l.terminated
        )
        INSERT INTO isp_subscription_event (
            subscription_id, partner_id, customer_id, company_id, currency_id,
            user_id, old_plan_id, new_plan_id, event_type, reason, mrr_movement,
            event_date, promise_until, recurring_monthly, recurring_monthly_company,
            mrr_change, mrr_change_company, create_uid, write_uid, create_date,
            write_date)
        SELECT sub_id, partner_id, partner_id, %(company)s, %(currency)s, %(uid)s,
               (%(plan_ids)s::int[])[old_plan], (%(plan_ids)s::int[])[new_plan],
               type, reason, movement, day, promise_until, after, after, change,
               change, %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM ev
      ORDER BY sub_id, day, ord
        """,
        p,
    )


def _line_values(cfg, template, move_type):
    """SQL select-list pieces for one template line of an invoice (from
    ``bench_period per``): (account and kind columns, signed amount)."""
    sign = "-" if move_type == "out_invoice" else ""
    rsign = "" if move_type == "out_invoice" else "-"
    prefix = "" if move_type == "out_invoice" else "cn_"
    kind = template["display_type"]
    if kind == "product":
        amount = f"{sign}per.{prefix}untaxed"
    elif kind == "tax":
        amount = f"{sign}per.{prefix}tax"
    else:
        amount = f"{rsign}per.{prefix}total"
    return amount


def _insert_invoices(cr, cfg, p):
    """Invoices and credit notes (posted) with their journal items, the billed
    periods, and the credit notes' reconciliation with the last invoice."""
    year = "extract(year FROM per.pstart)::int::text"
    for move_type, prefix in (("out_invoice", ""), ("out_refund", "cn_")):
        code = cfg["sale_journal_code"] if not prefix else cfg["refund_prefix"]
        where = "" if not prefix else "WHERE per.cn_move_id IS NOT NULL"
        date = "per.pstart" if not prefix else "per.term_date"
        ysql = year if not prefix else "extract(year FROM per.term_date)::int::text"
        sign = 1 if move_type == "out_invoice" else -1
        name = f"'{code}/' || {ysql} || '/' || lpad(per.{prefix}move_id::text, 8, '0')"
        cr.execute(
            f"""
            INSERT INTO account_move (
                id, name, sequence_prefix, sequence_number, journal_id, company_id,
                partner_id, commercial_partner_id, partner_shipping_id, currency_id,
                invoice_user_id, state, move_type, auto_post, date, invoice_date,
                invoice_date_due, payment_reference, invoice_origin,
                invoice_partner_display_name, invoice_currency_rate,
                amount_untaxed, amount_tax, amount_total, amount_residual,
                amount_untaxed_signed, amount_untaxed_in_currency_signed,
                amount_tax_signed, amount_total_signed,
                amount_total_in_currency_signed, amount_residual_signed,
                payment_state, is_storno, always_tax_exigible, checked,
                posted_before, made_sequence_gap, is_manually_modified,
                is_move_sent, reversed_entry_id, create_uid, write_uid,
                create_date, write_date)
            SELECT per.{prefix}move_id,
                   {name}, '{code}/' || {ysql} || '/', per.{prefix}move_id,
                   %(sale_journal)s, %(company)s, per.partner_id, per.partner_id,
                   per.partner_id, %(currency)s, %(uid)s, 'posted', '{move_type}',
                   'no', {date}, {date}, {date if prefix else "per.due"},
                   {name}, 'B' || %(company)s || '-' || lpad(per.sub::text, 8, '0'),
                   'Bench customer ' || lpad(per.k::text, 7, '0'), 1,
                   per.{prefix}untaxed, per.{prefix}tax, per.{prefix}total,
                   per.{prefix}total, {sign} * per.{prefix}untaxed,
                   {sign} * per.{prefix}untaxed, {sign} * per.{prefix}tax,
                   {sign} * per.{prefix}total, {sign} * per.{prefix}total,
                   {sign} * per.{prefix}total, 'not_paid', false, false, true, true,
                   false, false, false, NULL, %(uid)s, %(uid)s,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM bench_period per {where}
            """,
            dict(p, sale_journal=cfg["sale_journal_id"]),
        )
        templates = cfg["invoice_lines" if not prefix else "refund_lines"]
        for template in templates:
            amount = _line_values(cfg, template, move_type)
            kind = template["display_type"]
            line_id = (
                f"per.{prefix}recv_line_id"
                if kind == "payment_term"
                else "nextval('account_move_line_id_seq')"
            )
            product = kind == "product"
            cr.execute(
                f"""
                WITH ins AS (
                    INSERT INTO account_move_line (
                        id, move_id, journal_id, company_id, company_currency_id,
                        currency_id, partner_id, account_id, display_type,
                        sequence, name, product_id, product_uom_id, quantity,
                        price_unit, price_subtotal, price_total, discount, debit,
                        credit, balance, amount_currency, tax_base_amount,
                        amount_residual, amount_residual_currency, reconciled,
                        parent_state, move_name, date, invoice_date,
                        date_maturity, tax_line_id, tax_group_id,
                        tax_repartition_line_id, tax_tag_invert,
                        isp_subscription_id, isp_period_start, isp_period_end,
                        create_uid, write_uid, create_date, write_date)
                    SELECT {line_id}, per.{prefix}move_id, %(sale_journal)s,
                           %(company)s, %(currency)s, %(currency)s,
                           per.partner_id, %(account)s, %(kind)s, %(sequence)s,
                           {
                    "(%(plan_names)s::text[])[per.plan]" if product else "%(name)s"
                },
                           {"(%(plan_ids)s::int[])[per.plan]" if product else "NULL"},
                           %(uom)s, {"1" if product else "NULL"},
                           {f"per.{prefix}untaxed" if product else "0"},
                           {f"per.{prefix}untaxed" if product else "0"},
                           {f"per.{prefix}total" if product else "0"}, 0,
                           greatest({amount}, 0), greatest(-({amount}), 0),
                           {amount}, {amount},
                           {f"per.{prefix}untaxed" if kind == "tax" else "0"},
                           {amount if kind == "payment_term" else "0"},
                           {amount if kind == "payment_term" else "0"}, false,
                           'posted', m.name, m.date, m.invoice_date,
                           {"m.invoice_date_due" if kind == "payment_term" else "NULL"},
                           %(tax_line)s, %(tax_group)s, %(repartition)s,
                           %(invert)s,
                           {"per.sub_id" if product and not prefix else "NULL"},
                           {"per.pstart" if product and not prefix else "NULL"},
                           {"per.pend - 1" if product and not prefix else "NULL"},
                           %(uid)s, %(uid)s, now() at time zone 'UTC',
                           now() at time zone 'UTC'
                      FROM bench_period per
                      JOIN account_move m ON m.id = per.{prefix}move_id
                    RETURNING id
                ),
                taxes AS (
                    INSERT INTO account_move_line_account_tax_rel
                    SELECT ins.id, tax FROM ins, unnest(%(tax_ids)s::int[]) tax
                )
                INSERT INTO account_account_tag_account_move_line_rel
                SELECT ins.id, tag FROM ins, unnest(%(tag_ids)s::int[]) tag
                """,
                dict(
                    p,
                    sale_journal=cfg["sale_journal_id"],
                    account=template["account_id"],
                    kind=kind,
                    sequence=template["sequence"],
                    name=template["name"],
                    uom=template["product_uom_id"],
                    tax_line=template["tax_line_id"],
                    tax_group=template["tax_group_id"],
                    repartition=template["tax_repartition_line_id"],
                    invert=template["tax_tag_invert"],
                    tax_ids=template["tax_ids"],
                    tag_ids=template["tag_ids"],
                ),
            )
    cr.execute(
        """
        INSERT INTO isp_subscription_period (
            id, subscription_id, company_id, move_id, date_start, date_end,
            credited, create_uid, write_uid, create_date, write_date)
        SELECT period_id, sub_id, %(company)s, move_id, pstart, pend, false,
               %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM bench_period
        """,
        p,
    )
    # the credit note of the unused days, matched with the last invoice
    cr.execute(
        """
        INSERT INTO account_partial_reconcile (
            debit_move_id, credit_move_id, debit_currency_id, credit_currency_id,
            company_id, max_date, amount, debit_amount_currency,
            credit_amount_currency, create_uid, write_uid, create_date, write_date)
        SELECT recv_line_id, cn_recv_line_id, %(currency)s, %(currency)s,
               %(company)s, greatest(pstart, term_date), cn_total, cn_total,
               cn_total, %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM bench_period WHERE cn_move_id IS NOT NULL
        """,
        p,
    )


def _insert_payments(cr, cfg, p):
    """Customer payments (posted, one move each: liquidity and receivable
    lines), matched with their invoice (but payments on account); then every
    receivable item's residual, the full reconciliations and the invoices'
    payment state, as Odoo computes them."""
    for channel in ("bank", "cash"):
        t = cfg["payments"][channel]
        q = dict(
            p,
            journal=t["journal_id"],
            method_line=t["payment_method_line_id"],
            method=t["payment_method_id"],
            outstanding=t["outstanding_account_id"],
            liquidity=t["liquidity_account_id"],
            receivable=t["receivable_account_id"],
            state="in_process" if t["liquidity_reconcile"] else "paid",
            matched=not t["liquidity_reconcile"],
            keeps_residual=t["liquidity_keeps_residual"],
            bank=channel == "bank",
        )
        code = "P" + t["journal_code"]
        name = (
            f"'{code}/' || extract(year FROM pay_date)::int::text || '/'"
            " || lpad(pay_move_id::text, 8, '0')"
        )
        cr.execute(
            f"""
            INSERT INTO account_move (
                id, name, sequence_prefix, sequence_number, journal_id, company_id,
                partner_id, commercial_partner_id, currency_id, state, move_type,
                auto_post, date, origin_payment_id, amount_untaxed, amount_tax,
                amount_total, amount_residual, amount_untaxed_signed,
                amount_untaxed_in_currency_signed, amount_tax_signed,
                amount_total_signed, amount_total_in_currency_signed,
                amount_residual_signed, payment_state, is_storno,
                always_tax_exigible, checked, posted_before, made_sequence_gap,
                is_manually_modified, is_move_sent, invoice_currency_rate,
                create_uid, write_uid, create_date, write_date)
            SELECT pay_move_id, {name},
                   '{code}/' || extract(year FROM pay_date)::int::text || '/',
                   pay_move_id, %(journal)s, %(company)s, partner_id, partner_id,
                   %(currency)s, 'posted', 'entry', 'no', pay_date, NULL,
                   0, 0, amount, 0, 0, 0, 0, amount, amount, 0, 'not_paid', false,
                   false, true, true, false, false, false, 1, %(uid)s, %(uid)s,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM bench_payment WHERE bank = %(bank)s
            """,
            q,
        )
        cr.execute(
            f"""
            INSERT INTO account_payment (
                id, move_id, journal_id, company_id, payment_method_line_id,
                payment_method_id, currency_id, partner_id, outstanding_account_id,
                destination_account_id, name, state, payment_type, partner_type,
                memo, date, amount, amount_company_currency_signed, is_reconciled,
                is_matched, is_sent, create_uid, write_uid, create_date,
                write_date)
            SELECT payment_id, pay_move_id, %(journal)s, %(company)s,
                   %(method_line)s, %(method)s, %(currency)s, partner_id,
                   %(outstanding)s, %(receivable)s, {name}, %(state)s, 'inbound',
                   'customer', 'B' || %(company)s || '-' || lpad(sub::text, 8, '0'),
                   pay_date, amount,
                   amount, nth != 3, %(matched)s, false, %(uid)s, %(uid)s,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM bench_payment WHERE bank = %(bank)s
            """,
            q,
        )
        for liquidity in (True, False):
            account = "%(liquidity)s" if liquidity else "%(receivable)s"
            line_id = "liquidity_line_id" if liquidity else "counterpart_line_id"
            amount = "amount" if liquidity else "-amount"
            residual = (
                ("amount" if t["liquidity_keeps_residual"] else "0")
                if liquidity
                else "-amount"
            )
            cr.execute(
                f"""
                INSERT INTO account_move_line (
                    id, move_id, journal_id, company_id, company_currency_id,
                    currency_id, partner_id, account_id, display_type, sequence,
                    name, debit, credit, balance, amount_currency, tax_base_amount,
                    amount_residual, amount_residual_currency, reconciled,
                    parent_state, move_name, date, date_maturity, payment_id,
                    tax_tag_invert, create_uid, write_uid, create_date, write_date)
                SELECT {line_id}, pay_move_id, %(journal)s, %(company)s,
                       %(currency)s, %(currency)s, partner_id, {account}, 'product',
                       10, 'Customer payment', greatest({amount}, 0),
                       greatest(-({amount}), 0), {amount}, {amount}, 0,
                       {residual}, {residual}, false, 'posted', {name}, pay_date,
                       pay_date, payment_id, false, %(uid)s, %(uid)s,
                       now() at time zone 'UTC', now() at time zone 'UTC'
                  FROM bench_payment WHERE bank = %(bank)s
                """,
                q,
            )
    # the payments' entries point back to them (once both exist)
    cr.execute(
        """
        UPDATE account_move m SET origin_payment_id = bp.payment_id
          FROM bench_payment bp WHERE m.id = bp.pay_move_id
        """
    )
    cr.execute(
        """
        INSERT INTO account_move__account_payment (invoice_id, payment_id)
        SELECT invoice_move_id, payment_id FROM bench_payment WHERE nth != 3
        """
    )
    cr.execute(
        """
        INSERT INTO account_partial_reconcile (
            debit_move_id, credit_move_id, debit_currency_id, credit_currency_id,
            company_id, max_date, amount, debit_amount_currency,
            credit_amount_currency, create_uid, write_uid, create_date, write_date)
        SELECT invoice_line_id, counterpart_line_id, %(currency)s, %(currency)s,
               %(company)s, greatest(invoice_date, pay_date), amount, amount,
               amount, %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM bench_payment WHERE nth != 3
        """,
        p,
    )
    _settle(cr, cfg, p)


def _settle(cr, cfg, p):
    """Residuals, reconciled flags, full reconciliations, matching numbers and
    the invoices' payment state of the chunk's receivable items."""
    cr.execute(
        """
        CREATE TEMP TABLE bench_recv AS
        WITH pr AS (
            SELECT apr.debit_move_id, sum(apr.amount) AS amount,
                   min(apr.id) AS first_partial
              FROM account_partial_reconcile apr
              JOIN bench_period per ON per.recv_line_id = apr.debit_move_id
          GROUP BY 1
        ),
        paid AS (
            SELECT DISTINCT invoice_move_id FROM bench_payment WHERE nth != 3
        )
        SELECT per.move_id, per.recv_line_id AS line_id, per.total AS amount,
               per.total - COALESCE(pr.amount, 0) AS residual, pr.first_partial,
               paid.invoice_move_id IS NOT NULL AS by_payment, NULL::int AS full_id
          FROM bench_period per
     LEFT JOIN pr ON pr.debit_move_id = per.recv_line_id
     LEFT JOIN paid ON paid.invoice_move_id = per.move_id
        """
    )
    cr.execute("ANALYZE bench_recv")
    cr.execute(
        """
        UPDATE bench_recv SET full_id = nextval('account_full_reconcile_id_seq')
         WHERE residual = 0
        """
    )
    cr.execute(
        """
        INSERT INTO account_full_reconcile (id, create_uid, write_uid, create_date,
                                            write_date)
        SELECT full_id, %(uid)s, %(uid)s, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM bench_recv WHERE full_id IS NOT NULL
        """,
        p,
    )
    cr.execute(
        """
        UPDATE account_partial_reconcile apr SET full_reconcile_id = r.full_id
          FROM bench_recv r
         WHERE apr.debit_move_id = r.line_id AND r.full_id IS NOT NULL
        """
    )
    # the invoices' receivable items
    cr.execute(
        """
        UPDATE account_move_line aml
           SET amount_residual = r.residual, amount_residual_currency = r.residual,
               reconciled = r.residual = 0, full_reconcile_id = r.full_id,
               matching_number = CASE
                   WHEN r.full_id IS NOT NULL THEN r.full_id::text
                   WHEN r.first_partial IS NOT NULL THEN 'P' || r.first_partial END
          FROM bench_recv r WHERE aml.id = r.line_id
        """
    )
    # their counterparts (payments, credit notes): each matched in full with
    # one invoice, in its matching group
    cr.execute(
        """
        UPDATE account_move_line aml
           SET amount_residual = 0, amount_residual_currency = 0, reconciled = true,
               full_reconcile_id = r.full_id,
               matching_number = CASE
                   WHEN r.full_id IS NOT NULL THEN r.full_id::text
                   ELSE 'P' || r.first_partial END
          FROM account_partial_reconcile apr
          JOIN bench_recv r ON r.line_id = apr.debit_move_id
         WHERE aml.id = apr.credit_move_id
        """
    )
    cr.execute(
        """
        UPDATE account_move m
           SET amount_residual = r.residual, amount_residual_signed = r.residual,
               payment_state = CASE
                   WHEN r.residual = 0 AND r.by_payment THEN %(paid_state)s
                   WHEN r.residual = 0 THEN 'paid'
                   WHEN r.residual < r.amount THEN 'partial'
                   ELSE 'not_paid' END
          FROM bench_recv r WHERE m.id = r.move_id
        """,
        dict(
            p,
            paid_state=cfg["paid_state"]
            if any(t["liquidity_reconcile"] for t in cfg["payments"].values())
            else "paid",
        ),
    )
    # credit notes: fully used on their invoice
    cr.execute(
        """
        UPDATE account_move m SET amount_residual = 0, amount_residual_signed = 0,
                                  payment_state = 'paid'
          FROM bench_period per WHERE m.id = per.cn_move_id
        """
    )
    # a payment waits "in process" for its outstanding receipt to be matched,
    # but is "paid" once every invoice it pays is (Odoo's _compute_state)
    cr.execute(
        """
        UPDATE account_payment pay SET state = 'paid'
          FROM bench_payment bp
          JOIN account_move inv ON inv.id = bp.invoice_move_id
         WHERE pay.id = bp.payment_id AND bp.nth != 3 AND pay.state = 'in_process'
           AND inv.payment_state = 'paid'
        """
    )
    cr.execute("DROP TABLE bench_recv")


def _insert_autopay(cr, cfg, p):
    """Auto-pay attempts of the customers on auto-pay: one on each invoice
    date, 90 % accepted; a declined one retried the next day (70 % accepted)."""
    cr.execute(
        """
        WITH first AS (
            SELECT per.move_id, per.sub_id, per.pstart,
                   pg_temp.rnd(per.sub * 100 + per.j, 'a1') < 0.9 AS ok,
                   pg_temp.rnd(per.sub * 100 + per.j, 'a2') < 0.7 AS retry_ok
              FROM bench_period per
              JOIN bench_life l ON l.sub_id = per.sub_id
             WHERE l.autopay AND per.pstart < %(today)s
        )
        INSERT INTO isp_autopay_attempt (
            invoice_id, subscription_id, company_id, attempt, state,
            scheduled_date, create_uid, write_uid, create_date, write_date)
        SELECT move_id, sub_id, %(company)s, 1,
               CASE WHEN ok THEN 'done' ELSE 'failed' END, pstart, %(uid)s,
               %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM first
         UNION ALL
        SELECT move_id, sub_id, %(company)s, 2,
               CASE WHEN retry_ok THEN 'done' ELSE 'failed' END, pstart + 1,
               %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM first WHERE NOT ok AND pstart + 1 < %(today)s
        """,
        p,
    )


# --- invariants -----------------------------------------------------------------------

INVARIANTS = {
    "unbalanced moves": """
        SELECT count(*) FROM (
            SELECT move_id FROM account_move_line WHERE company_id = %(company)s
             GROUP BY move_id HAVING sum(balance) != 0 OR sum(debit) != sum(credit)
        ) x
    """,
    "invoices whose totals differ from their lines": """
        SELECT count(*) FROM account_move m
         WHERE m.company_id = %(company)s
           AND m.move_type IN ('out_invoice', 'out_refund')
           AND (m.amount_total != (SELECT abs(sum(l.balance)) FROM account_move_line l
                                    WHERE l.move_id = m.id
                                      AND l.display_type = 'payment_term')
                OR m.amount_untaxed + m.amount_tax != m.amount_total
                OR m.amount_residual != (SELECT abs(sum(l.amount_residual))
                                           FROM account_move_line l
                                          WHERE l.move_id = m.id
                                            AND l.display_type = 'payment_term'))
    """,
    "receivable items whose residual differs from their reconciliations": """
        SELECT count(*) FROM account_move_line l
          JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %(company)s AND a.account_type = 'asset_receivable'
           AND l.amount_residual != l.balance
               - COALESCE((SELECT sum(amount) FROM account_partial_reconcile
                            WHERE debit_move_id = l.id), 0)
               + COALESCE((SELECT sum(amount) FROM account_partial_reconcile
                            WHERE credit_move_id = l.id), 0)
    """,
    "reconciled flags that do not match the residual": """
        SELECT count(*) FROM account_move_line l
          JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %(company)s AND a.account_type = 'asset_receivable'
           AND l.reconciled != (l.amount_residual = 0)
    """,
    "payment states that do not match the residual": """
        SELECT count(*) FROM account_move m
         WHERE m.company_id = %(company)s AND m.move_type = 'out_invoice'
           AND m.payment_state != CASE
               WHEN m.amount_residual = 0 THEN m.payment_state
               WHEN m.amount_residual = m.amount_total THEN 'not_paid'
               ELSE 'partial' END
    """,
    "events whose MRR after differs from the sum of the movements": """
        SELECT count(*) FROM (
            SELECT recurring_monthly,
                   sum(mrr_change) OVER (PARTITION BY subscription_id ORDER BY id)
                       AS running
              FROM isp_subscription_event WHERE company_id = %(company)s
        ) x WHERE recurring_monthly != running
    """,
    "subscriptions whose MRR differs from their event log": """
        SELECT count(*) FROM isp_subscription s
         WHERE s.company_id = %(company)s
           AND s.recurring_monthly != COALESCE(
               (SELECT sum(mrr_change) FROM isp_subscription_event e
                 WHERE e.subscription_id = s.id), 0)
    """,
    "months where MRR at start + movements != MRR at end": """
        WITH months AS (
            SELECT generate_series(%(first_month)s::date, %(today)s::date,
                                   '1 month')::date AS month
        ),
        m AS (
            SELECT mo.month,
                   COALESCE(sum(e.mrr_change) FILTER (
                       WHERE e.event_date < mo.month), 0) AS mrr_start,
                   COALESCE(sum(e.mrr_change) FILTER (
                       WHERE e.event_date < (mo.month + interval '1 month')::date),
                       0) AS mrr_end,
                   COALESCE(sum(e.mrr_change) FILTER (
                       WHERE e.event_date >= mo.month
                         AND e.event_date < (mo.month + interval '1 month')::date
                         AND e.mrr_movement IN ('new', 'expansion',
                                                'reactivation')), 0) AS rises,
                   COALESCE(-sum(e.mrr_change) FILTER (
                       WHERE e.event_date >= mo.month
                         AND e.event_date < (mo.month + interval '1 month')::date
                         AND e.mrr_movement IN ('contraction', 'churn')), 0)
                       AS falls
              FROM months mo
         LEFT JOIN isp_subscription_event e ON e.company_id = %(company)s
          GROUP BY mo.month
        )
        SELECT count(*) FROM m WHERE mrr_start + rises - falls != mrr_end
    """,
    "movements whose type does not follow the product's rule": """
        SELECT count(*) FROM isp_subscription_event e
         WHERE e.company_id = %(company)s
           AND e.mrr_movement IS DISTINCT FROM CASE
               WHEN e.mrr_change = 0 THEN NULL
               WHEN e.mrr_change > 0 AND e.recurring_monthly = e.mrr_change
                   THEN CASE WHEN EXISTS (
                            SELECT 1 FROM isp_subscription_event o
                             WHERE o.customer_id = e.customer_id
                               AND o.company_id = e.company_id
                               AND o.mrr_change > 0
                               AND (o.event_date, o.id) < (e.event_date, e.id))
                        THEN 'reactivation' ELSE 'new' END
               WHEN e.mrr_change > 0 THEN 'expansion'
               WHEN e.recurring_monthly = 0 THEN 'churn'
               ELSE 'contraction' END
    """,
    "subscriptions billed twice for a period or with a gap": """
        SELECT count(*) FROM (
            SELECT subscription_id, date_start,
                   lag(date_end) OVER (PARTITION BY subscription_id
                                       ORDER BY date_start) AS previous_end
              FROM isp_subscription_period WHERE company_id = %(company)s
        ) x WHERE previous_end IS NOT NULL AND previous_end != date_start
    """,
}


def check_invariants(cr, cfg, months, today):
    """The book's invariants: ``{name: number of rows breaking it}``, all 0
    for a valid book."""
    first_month = today.replace(day=1) - relativedelta(months=months - 1)
    params = {"company": cfg["company_id"], "first_month": first_month, "today": today}
    result = {}
    for name, query in INVARIANTS.items():
        cr.execute(query, params)
        result[name] = cr.fetchone()[0]
    return result


# Stored fields the rows carry that Odoo computes: recomputed by Odoo on the
# book, they must come out the same (odoo_recompute_mismatches)
ODOO_COMPUTED = {
    "account.move": (
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "amount_residual",
        "amount_untaxed_signed",
        "amount_total_signed",
        "amount_residual_signed",
        "payment_state",
        "commercial_partner_id",
        "isp_date_paid",
    ),
    "account.move.line": (
        "debit",
        "credit",
        "amount_residual",
        "amount_residual_currency",
        "reconciled",
        "parent_state",
    ),
    "account.payment": ("state", "is_reconciled", "is_matched"),
    "isp.subscription": ("plan_id", "recurring_total", "recurring_monthly"),
    "res.partner": ("commercial_partner_id",),
}


def odoo_recompute_mismatches(env, cfg, limit=None):
    """Let Odoo recompute the stored fields of ``ODOO_COMPUTED`` on the bench
    company's records (``limit``: the first ones of each model) and count
    those that differ from what the generator wrote: ``{"model.field":
    count}``, all 0 for a book Odoo agrees with. Writes nothing (the
    recomputed values stay in the cache; invalidated at the end)."""
    env.flush_all()
    env.invalidate_all()
    result = {}
    for model, fnames in ODOO_COMPUTED.items():
        records = (
            env[model]
            .with_context(active_test=False)
            .search([("company_id", "=", cfg["company_id"])], order="id", limit=limit)
        )
        before = {row["id"]: row for row in records.read(list(fnames), load=None)}
        for fname in fnames:
            env.add_to_compute(records._fields[fname], records)
        after = {row["id"]: row for row in records.read(list(fnames), load=None)}
        for fname in fnames:
            result[f"{model}.{fname}"] = sum(
                1 for rid, row in after.items() if row[fname] != before[rid][fname]
            )
    env.invalidate_all()
    return result


def default_today():
    return date.today()
