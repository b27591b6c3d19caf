"""Changes made while the FreeRADIUS database is down, with committing
transactions as in production: a rename, a plan change and a suspension made
during the outage are all applied when it comes back, in order: the former
username's rows go, the new one gets the suspended group, and the live session
(still under the former username) gets its Disconnect."""

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg2
from pyrad import packet

from odoo import fields

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import radius_services  # noqa: E402

COA_SECRET = harness.E2E_COA_SECRET
# Nothing listens on port 9: connection refused, as when the database is down.
DOWN_DSN = "host=127.0.0.1 port=9 dbname=radius connect_timeout=2"


def radius_query(query, params=()):
    connection = psycopg2.connect(os.environ["ISP_RADIUS_DSN"])
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount
    finally:
        connection.close()


def radius_rows(username):
    rows = set()
    for table in ("radcheck", "radreply"):
        for attribute, op, value in radius_query(
            f"SELECT attribute, op, value FROM {table} WHERE username = %s",  # noqa: S608
            [username],
        ):
            rows.add((table, attribute, op, value))
    for group, priority in radius_query(
        "SELECT groupname, priority FROM radusergroup WHERE username = %s",
        [username],
    ):
        rows.add(("radusergroup", group, priority))
    return rows


def _plan(env, name, down, up):
    return env["product.product"].create(
        {
            "name": name,
            "type": "service",
            "list_price": 1000.0,
            "taxes_id": [(6, 0, [])],
            "isp_is_plan": True,
            "isp_download_mbps": down,
            "isp_upload_mbps": up,
        }
    )


def test_changes_during_outage_applied_when_back(radius_env, nas):
    env = radius_env
    company = env.ref("base.main_company")
    company.write(
        {
            "isp_radius_dsn": os.environ["ISP_RADIUS_DSN"],
            "isp_radius_suspend_policy": "reject",
            "isp_radius_coa_timeout": 1,
            "isp_radius_coa_retries": 1,
        }
    )
    nas_vals = {
        "name": "Outage NAS",
        "ip_address": "127.0.0.1",
        "secret": COA_SECRET,
        "nas_type": "mikrotik",
        "coa_port": nas.coa_port,
        "company_id": company.id,
    }
    nas_record = env["isp.radius.nas"].search(
        [("ip_address", "=", "127.0.0.1"), ("company_id", "=", company.id)]
    )
    if nas_record:
        nas_record.write(nas_vals)
    else:
        nas_record = env["isp.radius.nas"].create(nas_vals)
    home = _plan(env, "Outage 10M", 10, 10)
    fast = _plan(env, "Outage 50M", 50, 25)
    partner = env["res.partner"].create({"name": "Outage subscriber"})
    today = fields.Date.today()
    old = f"out{uuid.uuid4().hex[:10]}"
    new = f"{old}-new"
    # A username an administrator added by hand: never Odoo's to touch.
    handmade = f"hand{uuid.uuid4().hex[:10]}"
    radius_query(
        "INSERT INTO radcheck (username, attribute, op, value) "
        "VALUES (%s, 'Cleartext-Password', ':=', 'by-hand')",
        [handmade],
    )
    sub = env["isp.subscription"].create(
        {
            "partner_id": partner.id,
            "company_id": company.id,
            "date_start": today - timedelta(days=2),
            "tz": "UTC",
            "radius_username": old,
            "line_ids": [(0, 0, {"product_id": home.id})],
        }
    )
    sub.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(today=sub.date_start)
    env.cr.commit()  # pushed to FreeRADIUS after this commit
    try:
        sub.invalidate_recordset()
        assert sub.radius_sync_state == "synced", sub.radius_sync_error
        password = sub.radius_password
        session = nas.login(old, password)
        assert session.rate == "10M/10M"

        # FreeRADIUS's database goes down; three changes, each its own commit.
        company.isp_radius_dsn = DOWN_DSN
        env.cr.commit()
        sub.radius_username = new
        env.cr.commit()
        sub._change_plan(fast, today)
        env.cr.commit()
        sub.action_suspend("Outage test: unpaid")
        env.cr.commit()
        sub.invalidate_recordset()
        assert sub.radius_sync_state == "error"
        assert not nas.received
        assert ("radcheck", "Cleartext-Password", ":=", password) in radius_rows(old)

        # Back: the reconciliation job applies everything that was pending.
        company.isp_radius_dsn = os.environ["ISP_RADIUS_DSN"]
        env.cr.commit()
        env["isp.subscription"]._cron_radius_reconcile()
        env.cr.commit()
        sub.invalidate_recordset()
        assert sub.radius_sync_state == "synced", sub.radius_sync_error

        # Exactly Odoo's rows: nothing under the former username, the new
        # one suspended; the administrator's row untouched.
        assert radius_rows(old) == set()
        assert radius_rows(new) == {
            ("radcheck", "Cleartext-Password", ":=", password),
            ("radcheck", "Simultaneous-Use", ":=", "1"),
            ("radusergroup", "isp_suspended", 1),
        }
        assert radius_rows(handmade) == {
            ("radcheck", "Cleartext-Password", ":=", "by-hand")
        }
        client = radius_services.nas_client()
        assert client.access_request(old, password).code == packet.AccessReject
        assert client.access_request(new, password).code == packet.AccessReject

        # The live session got the plan change's CoA, then the suspension's
        # Disconnect, in that order.
        assert harness.wait_for(
            lambda: any(r.kind == "disconnect" for r in nas.received)
        )
        assert [r.kind for r in nas.received] == ["coa", "disconnect"]
        assert nas.received[0].attributes["Mikrotik-Rate-Limit"] == ["25M/50M"]
        assert nas.received[1].attributes["Acct-Session-Id"] == [session.session_id]
        assert harness.wait_for(lambda: session.session_id not in nas.sessions)
        assert not env["isp.radius.outbox"].search([("subscription_id", "=", sub.id)])
        # A second pass has nothing left to do.
        env["isp.subscription"]._cron_radius_reconcile()
        env.cr.commit()
        assert [r.kind for r in nas.received] == ["coa", "disconnect"]
    finally:
        # Leave the database as found.
        env.cr.rollback()
        company.isp_radius_dsn = os.environ["ISP_RADIUS_DSN"]
        sub.action_terminate(today, "Outage test done", credit=False)
        nas_record.unlink()
        env.cr.commit()
        # The reconciliation wrote the NAS to FreeRADIUS's nas table: gone too.
        env["isp.subscription"]._cron_radius_reconcile()
        radius_query("DELETE FROM radcheck WHERE username = %s", [handmade])
        company.isp_radius_dsn = False
        env.cr.commit()


def test_outbox_rows_applied_by_one_worker_at_a_time(env_factory):
    """Two workers applying the outbox at once never both take a row: a row
    another worker holds, or applied since this worker's snapshot, is skipped."""
    env_a, env_b = env_factory(), env_factory()
    company = env_a.ref("base.main_company")
    rows = env_a["isp.radius.outbox"].create(
        [
            {
                "company_id": company.id,
                "kind": "forget",
                "username": f"claim{uuid.uuid4().hex[:10]}",
            }
            for __ in range(2)
        ]
    )
    env_a.cr.commit()
    try:
        # Worker B's snapshot starts before worker A applies anything.
        assert env_b["isp.radius.outbox"].search_count([("id", "in", rows.ids)]) == 2
        assert rows._radius_claim() == rows
        assert not env_b["isp.radius.outbox"].browse(rows.ids)._radius_claim()
        rows[0].unlink()  # applied by A
        env_a.cr.commit()
        # B still sees the applied row in its snapshot, but must not apply it
        # again; the other one, released by A's commit, is B's.
        taken = env_b["isp.radius.outbox"].browse(rows.ids)._radius_claim()
        assert taken.ids == [rows[1].id]
    finally:
        env_b.cr.rollback()
        rows.exists().unlink()
        env_a.cr.commit()
