"""isp_sale with isp_radius, end to end with committing transactions as in
production: a subscription sold through a sales order is not in FreeRADIUS
while it waits for its installation; the installation task marked done
activates it, and after that transaction commits the subscriber is in the
RADIUS database (its password, its plan's group) and the run's real
FreeRADIUS accepts its PPPoE login at the plan's speed."""

import os
import sys
import uuid
from pathlib import Path

import pytest
from pyrad import packet

sys.path.insert(0, str(Path(__file__).resolve().parent))

import radius_services  # noqa: E402


def radius_rows(username):
    """The subscriber's rows, as FreeRADIUS reads them."""
    rows = set()
    conn = radius_services.radius_connection()
    with conn, conn.cursor() as cursor:
        for table in ("radcheck", "radreply"):
            cursor.execute(
                f"SELECT attribute, op, value FROM {table} WHERE username = %s",  # noqa: S608
                [username],
            )
            rows.update((table, *row) for row in cursor.fetchall())
        cursor.execute(
            "SELECT groupname FROM radusergroup WHERE username = %s", [username]
        )
        rows.update(("radusergroup", group) for (group,) in cursor.fetchall())
    conn.close()
    return rows


def access_request(username, password):
    """PAP Access-Request as the NAS sends it: (accepted, reply attributes)."""
    reply = radius_services.nas_client().access_request(username, password)
    return reply.code == packet.AccessAccept, reply.attributes


@pytest.fixture()
def company(radius_env):
    """The main company pushing to the run's FreeRADIUS, as it was afterwards
    (even when the test fails)."""
    env = radius_env
    if "isp_sale_anchor" not in env["res.company"]._fields:
        pytest.fail("isp_sale is not installed in the test database")
    company = env.ref("base.main_company")
    former_dsn = company.isp_radius_dsn
    company.isp_radius_dsn = os.environ["ISP_RADIUS_DSN"]
    env.cr.commit()
    yield company
    env.cr.rollback()
    company.isp_radius_dsn = former_dsn
    env.cr.commit()


def test_installation_done_provisions_the_sold_subscriber(radius_env, company):
    env = radius_env
    plan = env["product.product"].create(
        {
            "name": "Sale E2E 30 Mbps",
            "type": "service",
            "list_price": 3000.0,
            "taxes_id": [(6, 0, [])],
            "isp_is_plan": True,
            "isp_download_mbps": 30,
            "isp_upload_mbps": 15,
        }
    )
    project = env["project.project"].create(
        {"name": "Sale E2E installations", "company_id": company.id}
    )
    install_fee = env["product.product"].create(
        {
            "name": "Sale E2E installation",
            "type": "service",
            "list_price": 5000.0,
            "taxes_id": [(6, 0, [])],
            "service_tracking": "task_global_project",
            "project_id": project.id,
        }
    )
    order = env["sale.order"].create(
        {
            # in Nairobi: covered by the demo's coverage areas
            "partner_id": env["res.partner"]
            .create(
                {
                    "name": "Sale E2E buyer",
                    "city": "Nairobi",
                    "country_id": env.ref("base.ke").id,
                }
            )
            .id,
            "company_id": company.id,
            "order_line": [
                (0, 0, {"product_id": plan.id}),
                (0, 0, {"product_id": install_fee.id}),
            ],
        }
    )
    order.action_confirm()
    sub = env["isp.subscription"].search([("sale_order_id", "=", order.id)])
    assert len(sub) == 1 and sub.state == "draft"
    # A username new to the run's RADIUS database, whatever ran before.
    username = f"sale{uuid.uuid4().hex[:10]}"
    sub.radius_username = username
    password = sub.radius_password
    assert password
    env.cr.commit()

    # Waiting for the installation: not in FreeRADIUS, no login.
    sub.invalidate_recordset()
    assert sub.radius_sync_state != "synced"
    assert radius_rows(username) == set()
    assert not access_request(username, password)[0]

    order.tasks_ids.write({"state": "1_done"})
    env.cr.commit()  # the push to FreeRADIUS runs after this commit

    sub.invalidate_recordset()
    assert sub.state == "active"
    assert sub.radius_sync_state == "synced", sub.radius_sync_error
    rows = radius_rows(username)
    assert ("radcheck", "Cleartext-Password", ":=", password) in rows
    assert ("radusergroup", env["isp.radius"]._plan_group(plan)) in rows
    accepted, reply = access_request(username, password)
    assert accepted
    # 30 Mbps down / 15 up: MikroTik's rx/tx, upload first
    assert reply["Mikrotik-Rate-Limit"] == ["15M/30M"]
    assert not access_request(username, "wrong password")[0]

    # Leave the database as found: terminated (rows removed after the commit).
    sub.action_terminate(sub._today(), "Sale E2E done", credit=False)
    env.cr.commit()
    assert radius_rows(username) == set()
