#!/usr/bin/env python3
# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of isp_payment_risk: training and scoring in an Odoo process.

A fresh database (isp_payment_risk, no demo data); N subscribers x M months
of the simulator's histories (tests/payment_risk_simulator.py) written
set-based in SQL, by chunks of 5,000 subscribers: subscriptions, posted
invoices (one receivable line each, linked to the subscription), for each
invoice paid before "today" a credit line and a partial reconciliation of the
payment day (so the invoice is *paid* on that day, as the extraction reads
it), auto-pay attempts, promises to pay and upgrades. "Today" is the day
after the last invoice: the invoices paid later are open. While it writes,
the written tables' plain indexes are dropped (built again once at the end)
and no foreign-key trigger runs (``session_replication_role = replica``:
the rows refer to records written just before).

Then, timed, with the CPU time of the process and of its PostgreSQL backend
and the peak RSS of each part:

* floor: the plain SQL scan of the same invoices (the extraction's invoice
  statement, by the same batches and settings, rows fetched, no features);
* extraction: ``isp.payment.risk.service._training_rows`` (SQL + features);
* training: ``_train`` (every step of the training job one after the
  other: the extraction by steps, each step's rows stored in the database,
  the evaluation with bootstrap, the final fit, stored as an attachment);
* scoring: ``_score`` (every open invoice and running subscription) the day
  after "today". "Today" leaves about a quarter of the subscriptions with an
  open invoice; for the scoring, every subscription's last invoice is set
  back to unpaid first (one open invoice per subscription), in the
  scoring's transaction, rolled back after it (``--paid-last``: as written).

The issue's targets (#17): training within 10 minutes and 2 GB for 100,000
subscribers x 24 months, scoring 100,000 open invoices within 60 s. Run by
hand, never part of the test suite::

    tests/bench/payment_risk_bench.py                     # 100,000 x 24
    tests/bench/payment_risk_bench.py --subscribers 2000  # a quick check

The database (default ``isp_bench_risk``) is dropped and created anew
(``--reuse`` keeps one written before; ``--setup-only``, ``--score-only``),
and kept.
"""

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (  # noqa: E402
    cpu_seconds,
    create_database,
    odoo_env,
    odoo_registry,
    peak_rss_mb,
    reset_peak_rss,
    say,
)

import payment_risk_simulator as sim  # noqa: E402

CHUNK = 5000
FIRST_MONTH = date(2025, 1, 1)


def setup_company(env):
    company = env.ref("base.main_company")
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    bank = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    receivable = env["account.account"].search(
        [
            ("company_ids", "in", company.id),
            ("account_type", "=", "asset_receivable"),
        ],
        limit=1,
    )
    partner = env["res.partner"].create({"name": "Bench risk customer"})
    return company, journal, bank, receivable, partner


def write_chunk(cr, ctx, histories):
    """Write ``histories`` set-based (see the module's docstring)."""
    company, journal, bank, receivable, partner, currency, uid, today = ctx
    cr.execute(
        """
        INSERT INTO isp_subscription
            (company_id, currency_id, partner_id, date_start, state, tz,
             create_uid, write_uid, create_date, write_date)
        SELECT %s, %s, %s, d, 'active', 'Africa/Nairobi', %s, %s, now(), now()
          FROM unnest(%s::date[]) WITH ORDINALITY AS t(d, n)
         ORDER BY n
        RETURNING id
        """,
        [company, currency, partner, uid, uid, [h["start"] for h in histories]],
    )
    sub_ids = [r[0] for r in cr.fetchall()]
    names, subs, days, dues, amounts, paid = [], [], [], [], [], []
    for sub_id, history in zip(sub_ids, histories, strict=True):
        for inv in history["invoices"]:
            names.append(f"RISK/{sub_id}/{inv['date'].isoformat()}")
            subs.append(sub_id)
            days.append(inv["date"])
            dues.append(inv["due"])
            amounts.append(inv["amount"])
            paid.append(inv["paid"] if inv["paid"] and inv["paid"] < today else None)
    cr.execute(
        """
        INSERT INTO account_move
            (name, journal_id, company_id, currency_id, partner_id,
             commercial_partner_id, date, invoice_date, invoice_date_due,
             move_type, state, auto_post, payment_state, amount_total,
             amount_total_signed, amount_residual, amount_residual_signed,
             create_uid, write_uid, create_date, write_date)
        SELECT t.name, %(journal)s, %(company)s, %(currency)s, %(partner)s,
               %(partner)s, t.day, t.day, t.due, 'out_invoice', 'posted', 'no',
               CASE WHEN t.paid IS NULL THEN 'not_paid' ELSE 'paid' END,
               t.amount, t.amount,
               CASE WHEN t.paid IS NULL THEN t.amount ELSE 0 END,
               CASE WHEN t.paid IS NULL THEN t.amount ELSE 0 END,
               %(uid)s, %(uid)s, now(), now()
          FROM unnest(%(names)s::varchar[], %(days)s::date[], %(dues)s::date[],
                      %(amounts)s::numeric[], %(paid)s::date[])
               AS t(name, day, due, amount, paid)
        RETURNING id, name
        """,
        {
            "journal": journal,
            "company": company,
            "currency": currency,
            "partner": partner,
            "uid": uid,
            "names": names,
            "days": days,
            "dues": dues,
            "amounts": amounts,
            "paid": paid,
        },
    )
    move_of = dict((name, mid) for mid, name in cr.fetchall())
    move_ids = [move_of[name] for name in names]
    cr.execute(
        """
        INSERT INTO account_move_line
            (move_id, isp_subscription_id, account_id, company_id, currency_id,
             company_currency_id, journal_id, partner_id, display_type, date,
             parent_state, balance, debit, credit, amount_currency,
             amount_residual, amount_residual_currency, reconciled,
             create_uid, write_uid, create_date, write_date)
        SELECT t.move, t.sub, %(account)s, %(company)s, %(currency)s,
               %(currency)s, %(journal)s, %(partner)s, 'payment_term', t.day,
               'posted', t.amount, t.amount, 0, t.amount,
               CASE WHEN t.paid IS NULL THEN t.amount ELSE 0 END,
               CASE WHEN t.paid IS NULL THEN t.amount ELSE 0 END,
               t.paid IS NOT NULL, %(uid)s, %(uid)s, now(), now()
          FROM unnest(%(moves)s::int[], %(subs)s::int[], %(days)s::date[],
                      %(amounts)s::numeric[], %(paid)s::date[])
               AS t(move, sub, day, amount, paid)
        RETURNING id, move_id
        """,
        {
            "account": receivable,
            "company": company,
            "currency": currency,
            "journal": journal,
            "partner": partner,
            "uid": uid,
            "moves": move_ids,
            "subs": subs,
            "days": days,
            "amounts": amounts,
            "paid": paid,
        },
    )
    line_of = {mid: lid for lid, mid in cr.fetchall()}
    # One payment entry per chunk holds the credit lines of the payments.
    cr.execute(
        """
        INSERT INTO account_move (name, journal_id, company_id, currency_id, date,
                                  move_type, state, auto_post, create_uid,
                                  write_uid, create_date, write_date)
        VALUES (%s, %s, %s, %s, %s, 'entry', 'posted', 'no', %s, %s, now(), now())
        RETURNING id
        """,
        [f"RISKPAY/{sub_ids[0]}", bank, company, currency, today, uid, uid],
    )
    payment_move = cr.fetchone()[0]
    paid_rows = [
        (line_of[mid], amount, day)
        for mid, amount, day in zip(move_ids, amounts, paid, strict=True)
        if day
    ]
    if paid_rows:
        debit, amount, day = (list(col) for col in zip(*paid_rows, strict=True))
        cr.execute(
            """
            WITH credit AS (
                INSERT INTO account_move_line
                    (move_id, account_id, company_id, currency_id,
                     company_currency_id, journal_id, partner_id, display_type,
                     date, parent_state, balance, debit, credit, amount_currency,
                     amount_residual, amount_residual_currency, reconciled,
                     name, create_uid, write_uid, create_date, write_date)
                SELECT %(move)s, %(account)s, %(company)s, %(currency)s,
                       %(currency)s, %(journal)s, %(partner)s, 'payment_term',
                       t.day, 'posted', -t.amount, 0, t.amount, -t.amount, 0, 0,
                       TRUE, t.debit::varchar, %(uid)s, %(uid)s, now(), now()
                  FROM unnest(%(debit)s::int[], %(amount)s::numeric[],
                              %(day)s::date[]) AS t(debit, amount, day)
                RETURNING id, name::int AS debit, credit AS amount, date AS day
            )
            INSERT INTO account_partial_reconcile
                (debit_move_id, credit_move_id, company_id, debit_currency_id,
                 credit_currency_id, amount, debit_amount_currency,
                 credit_amount_currency, max_date, create_uid, write_uid,
                 create_date, write_date)
            SELECT debit, id, %(company)s, %(currency)s, %(currency)s, amount,
                   amount, amount, day, %(uid)s, %(uid)s, now(), now()
              FROM credit
            """,
            {
                "move": payment_move,
                "account": receivable,
                "company": company,
                "currency": currency,
                "journal": bank,
                "partner": partner,
                "uid": uid,
                "debit": debit,
                "amount": amount,
                "day": day,
            },
        )
    attempts, events = [], []
    for sub_id, history in zip(sub_ids, histories, strict=True):
        invoices = history["invoices"]
        number = {}
        for day, failed in history["autopay"]:
            owner = max(
                (inv for inv in invoices if inv["date"] <= day),
                key=lambda inv: inv["date"],
            )
            mid = move_of[f"RISK/{sub_id}/{owner['date'].isoformat()}"]
            number[mid] = number.get(mid, 0) + 1
            state = "failed" if failed else "done"
            attempts.append((mid, sub_id, day, number[mid], state))
        for made, until in history["promises"]:
            events.append((sub_id, "promise", made, until))
        for day in history["upgrades"]:
            events.append((sub_id, "upgrade", day, None))
    if attempts:
        cols = [list(c) for c in zip(*attempts, strict=True)]
        cr.execute(
            """
            INSERT INTO isp_autopay_attempt
                (invoice_id, subscription_id, scheduled_date, attempt, state,
                 create_uid, write_uid, create_date, write_date)
            SELECT t.*, %s, %s, now(), now()
              FROM unnest(%s::int[], %s::int[], %s::date[], %s::int[],
                          %s::varchar[]) AS t
            """,
            [uid, uid, *cols],
        )
    if events:
        cols = [list(c) for c in zip(*events, strict=True)]
        cr.execute(
            """
            INSERT INTO isp_subscription_event
                (subscription_id, event_type, event_date, promise_until,
                 currency_id, user_id, company_id, create_uid, write_uid,
                 create_date, write_date)
            SELECT t.*, %s, %s, %s, %s, %s, now(), now()
              FROM unnest(%s::int[], %s::varchar[], %s::date[], %s::date[]) AS t
            """,
            [currency, uid, company, uid, uid, *cols],
        )
    return len(names)


# The tables the set-up writes: their indexes (other than those of a
# constraint) are dropped while it writes and built again after it, once.
TABLES = (
    "isp_subscription",
    "account_move",
    "account_move_line",
    "account_partial_reconcile",
    "isp_autopay_attempt",
    "isp_subscription_event",
)


def drop_indexes(cr):
    """Drop the plain indexes of :data:`TABLES`: their definitions, to build
    them again (one sorted build each is much faster than a row at a time)."""
    cr.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid::regclass::text = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                            WHERE k.conindid = i.indexrelid)
         ORDER BY c.relname
        """,
        [list(TABLES)],
    )
    definitions = cr.fetchall()
    for name, __ in definitions:
        cr.execute(f'DROP INDEX "{name}"')
    return [definition for __, definition in definitions]


def setup(registry, args, today):
    histories_total = 0
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company, journal, bank, receivable, partner = setup_company(env)
        ctx = (
            company.id,
            journal.id,
            bank.id,
            receivable.id,
            partner.id,
            company.currency_id.id,
            env.uid,
            today,
        )
        cr.commit()
        indexes = drop_indexes(cr)
        cr.commit()
    invoices = 0
    started = time.monotonic()
    try:
        for start in range(0, args.subscribers, CHUNK):
            size = min(CHUNK, args.subscribers - start)
            histories = sim.simulate(
                size, args.months, seed=args.seed * 100_000 + start
            )
            with registry.cursor() as cr:
                # the rows refer to records that exist (written above or
                # just before): no foreign-key trigger per row
                cr.execute("SET LOCAL session_replication_role = replica")
                invoices += write_chunk(cr, ctx, histories)
            histories_total += size
            say(
                f"  written {histories_total} subscribers, {invoices} invoices "
                f"({time.monotonic() - started:.0f} s)"
            )
    finally:
        with registry.cursor() as cr:
            for definition in indexes:
                cr.execute(definition)
            cr.commit()
            say(
                f"  {len(indexes)} indexes built again "
                f"({time.monotonic() - started:.0f} s)"
            )
            cr.execute("ANALYZE")
    return invoices


def unpay_last(cr):
    """Set every subscription's last invoice back to unpaid (its payment's
    reconciliation deleted), in the scoring's transaction, rolled back after
    it: the scoring then has an open invoice per subscription (about 100,000
    at full size) instead of the quarter left open by "today". The training
    is measured before, on the histories as written."""
    cr.execute(
        """
        WITH last AS (
            SELECT DISTINCT ON (line.isp_subscription_id)
                   line.move_id, line.id AS line_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.isp_subscription_id IS NOT NULL
               AND move.move_type = 'out_invoice' AND move.state = 'posted'
             ORDER BY line.isp_subscription_id, move.invoice_date DESC,
                      move.id DESC
        ), unreconciled AS (
            DELETE FROM account_partial_reconcile apr
             USING last WHERE apr.debit_move_id = last.line_id
            RETURNING apr.debit_move_id
        ), lines AS (
            UPDATE account_move_line line
               SET amount_residual = line.balance,
                   amount_residual_currency = line.amount_currency,
                   reconciled = FALSE
              FROM unreconciled u WHERE line.id = u.debit_move_id
            RETURNING line.move_id
        )
        UPDATE account_move move
           SET payment_state = 'not_paid', amount_residual = move.amount_total,
               amount_residual_signed = move.amount_total_signed
          FROM last
         WHERE move.id = last.move_id AND move.payment_state = 'paid'
           AND EXISTS (SELECT 1 FROM lines WHERE lines.move_id = move.id)
        """
    )
    return cr.rowcount


def score(args, cr, service, company, today, backend):
    """The timed scoring, the day after "today": every subscription's last
    invoice set back to unpaid first (:func:`unpay_last`, rolled back after),
    unless ``--paid-last``."""
    if not args.paid_last:
        say(f"  {unpay_last(cr)} last invoices set back to unpaid for the scoring")
    cr.execute(
        """
        SELECT count(*) FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted'
           AND payment_state IN ('not_paid', 'partial')
        """
    )
    open_count = cr.fetchone()[0]
    scored, wall = timed(
        "scoring",
        lambda: service._score(company, today + timedelta(days=1)),
        backend,
    )
    say(f"  {scored} open invoices scored (of {open_count})")
    if args.paid_last:
        cr.commit()
    else:
        cr.rollback()  # the histories stay as written (--reuse)
    return wall


def timed(label, func, backend=None):
    """Run ``func``: its wall time, the CPU time of this process and of its
    PostgreSQL backend (``backend``, a pid), and this process's peak RSS."""
    reset_peak_rss()
    started_cpu = time.process_time()
    started_pg = cpu_seconds(backend) if backend else 0.0
    started = time.monotonic()
    result = func()
    wall = time.monotonic() - started
    pg = f", {cpu_seconds(backend) - started_pg:.1f} s PostgreSQL" if backend else ""
    say(
        f"{label}: {wall:.1f} s wall, {time.process_time() - started_cpu:.1f} s "
        f"CPU{pg}, peak RSS {peak_rss_mb():.0f} MB"
    )
    return result, wall


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="isp_bench_risk")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--paid-last",
        action="store_true",
        help="score the open invoices as written (about a quarter of the "
        "subscriptions have one), not every subscription's last invoice",
    )
    parser.add_argument(
        "--setup-only", action="store_true", help="write the histories and stop"
    )
    parser.add_argument(
        "--score-only",
        action="store_true",
        help="only the scoring, with the model trained before (--reuse)",
    )
    args = parser.parse_args(argv)
    # Every chunk is simulated from January 2025: its last invoices are of
    # the last month, "today" is the first day of the month after.
    today = sim.add_months(FIRST_MONTH, args.months)
    if not args.reuse:
        create_database(args.db, ["isp_payment_risk"])
    registry = odoo_registry(args.db)
    if not args.reuse:
        count, wall = timed(
            "setup (simulate and write)", lambda: setup(registry, args, today)
        )
        say(f"  {count} invoices")
    if args.setup_only:
        return
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company = env.ref("base.main_company")
        company.write({"isp_risk_min_invoices": 500, "isp_risk_min_months": 6})
        service = env["isp.payment.risk.service"]
        sub_ids = service._subscription_ids(company)
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]

        def floor():
            rows = 0
            for start in range(0, len(sub_ids), 2000):
                batch = tuple(sub_ids[start : start + 2000])
                cr.execute(
                    """
                    SELECT link.sub, move.id, move.invoice_date,
                           move.invoice_date_due, move.amount_total_signed,
                           paid.date_paid
                      FROM (SELECT DISTINCT line.move_id,
                                   line.isp_subscription_id AS sub
                              FROM account_move_line line
                             WHERE line.isp_subscription_id IN %s) link
                      JOIN account_move move ON move.id = link.move_id
                      LEFT JOIN LATERAL (
                            SELECT MAX(apr.max_date) AS date_paid
                              FROM account_move_line line
                              JOIN account_partial_reconcile apr
                                ON apr.debit_move_id = line.id
                             WHERE line.move_id = move.id
                               AND line.display_type = 'payment_term'
                               AND move.payment_state IN ('paid', 'in_payment')
                      ) paid ON TRUE
                     WHERE move.move_type = 'out_invoice'
                       AND move.state = 'posted'
                    """,
                    [batch],
                )
                rows += len(cr.fetchall())
            return rows

        def floor_settings():
            # the extraction's own settings (no JIT compiling)
            with service._batch_settings():
                return floor()

        if args.score_only:
            score(args, cr, service, company, today, backend)
            return
        rows, floor_wall = timed(
            "floor (plain SQL scan of the invoices)", floor_settings, backend
        )
        extracted, extract_wall = timed(
            "extraction (SQL + features)",
            lambda: service._training_rows(company, today),
            backend,
        )
        say(f"  {rows} invoices scanned, {len(extracted[1])} training rows")
        del extracted  # not held during the training's measure
        model, train_wall = timed(
            "training (extraction, evaluation, fit, store)",
            lambda: service._train(company, today),
            backend,
        )
        say(
            f"  version {model.version} {model.state} {model.kind or ''}: "
            f"PR-AUC {model.pr_auc:.3f} [{model.pr_auc_low:.3f}, "
            f"{model.pr_auc_high:.3f}], baseline {model.baseline} "
            f"{model.baseline_pr_auc:.3f}, calibration error "
            f"{model.calibration_error:.3f} {model.refusal or ''}"
        )
        cr.commit()
        score_wall = score(args, cr, service, company, today, backend)
    say(
        f"Summary: floor {floor_wall:.1f} s, extraction {extract_wall:.1f} s, "
        f"training {train_wall:.1f} s, scoring {score_wall:.1f} s"
    )


if __name__ == "__main__":
    main()
