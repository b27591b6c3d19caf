# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The gateway to FreeRADIUS: its SQL database and its CoA port.

Two wrapper methods reach outside Odoo, and only these: ``_radius_connection``
(the FreeRADIUS database, standard ``rlm_sql`` schema, unmodified) and
``_radius_send`` (a CoA / Disconnect request to a NAS with pyrad).
"""

import logging
import os
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta, timezone
from functools import lru_cache

import psycopg2
from psycopg2.extras import execute_values

from odoo import api, models
from odoo.exceptions import UserError

from .. import const

_logger = logging.getLogger(__name__)

try:
    from pyrad import packet as radius_packet
    from pyrad.client import Client as RadiusClient
    from pyrad.client import Timeout as RadiusTimeout
    from pyrad.dictionary import Dictionary as RadiusDictionary
except ImportError:  # pragma: no cover - declared in external_dependencies
    radius_packet = RadiusClient = RadiusTimeout = RadiusDictionary = None

DICTIONARY_PATH = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "radius_dictionary", "dictionary"
)
USER_TABLES = ("radcheck", "radreply")
# The accounting import spools its COPY to disk past this size.
COPY_SPOOL_BYTES = 32 * 2**20


class IspRadiusUnavailable(UserError):
    """The FreeRADIUS database cannot be reached: the change stays pending."""


@lru_cache(maxsize=1)
def _dictionary():
    """The RADIUS dictionary (RFC attributes and MikroTik's), parsed once."""
    logging.getLogger("pyrad").setLevel(logging.ERROR)
    return RadiusDictionary(DICTIONARY_PATH)


class IspRadius(models.AbstractModel):
    _name = "isp.radius"
    _description = "FreeRADIUS gateway"

    # ------------------------------------------------------------------
    # The two doors to the outside
    # ------------------------------------------------------------------

    @contextmanager
    def _radius_connection(self, company):
        """Open one transaction on the company's FreeRADIUS database.

        Commits when the block ends normally, rolls back on an exception.

        :param res.company company: whose RADIUS database
        :raise IspRadiusUnavailable: when no database is set or it cannot be
            reached
        """
        dsn = company.sudo().isp_radius_dsn
        if not dsn:
            raise IspRadiusUnavailable(
                self.env._(
                    "No FreeRADIUS database is set for %(company)s (Settings > ISP).",
                    company=company.name,
                )
            )
        try:
            connection = psycopg2.connect(
                dsn, connect_timeout=5, application_name="odoo-isp-radius"
            )
        except psycopg2.Error as error:
            raise IspRadiusUnavailable(
                self.env._(
                    "The FreeRADIUS database of %(company)s cannot be reached: "
                    "%(error)s",
                    company=company.name,
                    error=str(error).strip(),
                )
            ) from error
        try:
            with connection, connection.cursor() as cursor:
                yield cursor
        except psycopg2.OperationalError as error:
            raise IspRadiusUnavailable(
                self.env._(
                    "The FreeRADIUS database of %(company)s failed: %(error)s",
                    company=company.name,
                    error=str(error).strip(),
                )
            ) from error
        finally:
            connection.close()

    def _radius_send(self, nas, code, attributes):
        """Send a CoA-Request or Disconnect-Request to ``nas`` and wait.

        :param isp.radius.nas nas: the NAS (address, secret, CoA port)
        :param int code: ``pyrad.packet.CoARequest`` or ``DisconnectRequest``
        :param dict attributes: RADIUS attribute name -> value
        :return: ``("ack" | "nak" | "timeout" | "disabled", error cause text
            or "")``; ``"disabled"`` when the company sends no CoA (a
            neutralised copy) or the NAS has no secret: nothing is sent
        :rtype: tuple
        """
        nas = nas.sudo()
        company = nas.company_id
        if not company.isp_radius_coa_enabled or not nas.secret:
            return "disabled", ""
        client = RadiusClient(
            server=nas.ip_address,
            secret=nas.secret.encode(),
            dict=_dictionary(),
            coaport=nas.coa_port,
        )
        client.timeout = company.isp_radius_coa_timeout or 2
        client.retries = max(company.isp_radius_coa_retries, 1)
        request = client.CreateCoAPacket(code=code)
        for name, value in attributes.items():
            if value not in (None, False, ""):
                request[name] = value
        try:
            reply = client.SendPacket(request)
        except RadiusTimeout:
            return "timeout", ""
        except OSError as error:
            return "timeout", str(error)
        if reply.code in (radius_packet.CoAACK, radius_packet.DisconnectACK):
            return "ack", ""
        cause = ""
        if "Error-Cause" in reply:
            value = reply["Error-Cause"][0]
            cause = (
                const.ERROR_CAUSES.get(value, str(value))
                if isinstance(value, int)
                else str(value)
            )
        return "nak", cause

    # ------------------------------------------------------------------
    # Desired state
    # ------------------------------------------------------------------

    @api.model
    def _plan_group(self, plan, fup=False):
        template = plan.product_tmpl_id if plan._name == "product.product" else plan
        return f"{const.PLAN_GROUP_PREFIX}{template.id}{'_fup' if fup else ''}"

    @api.model
    def _rate_attributes(self, download_mbps, upload_mbps, company):
        """Reply attributes that carry a speed: MikroTik's rate limit (rx/tx seen
        from the router: the subscriber's upload first) and WISPr's, in bit/s."""

        def mbit(value):
            return f"{value:g}M"

        rows = {
            ("Mikrotik-Rate-Limit", ":=", f"{mbit(upload_mbps)}/{mbit(download_mbps)}"),
            ("WISPr-Bandwidth-Max-Down", ":=", str(int(download_mbps * 1_000_000))),
            ("WISPr-Bandwidth-Max-Up", ":=", str(int(upload_mbps * 1_000_000))),
        }
        if company.isp_radius_interim_interval:
            rows.add(
                (
                    "Acct-Interim-Interval",
                    ":=",
                    str(company.isp_radius_interim_interval),
                )
            )
        return rows

    @api.model
    def _desired_groups(self, company):
        """Return ``{group: {"radgroupcheck": rows, "radgroupreply": rows}}`` for
        every plan and the suspended policy; a row is ``(attribute, op, value)``."""
        groups = {}
        plans = (
            self.env["product.template"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("isp_is_plan", "=", True),
                    "|",
                    ("company_id", "=", False),
                    ("company_id", "=", company.id),
                ]
            )
        )
        for plan in plans:
            groups[self._plan_group(plan)] = {
                "radgroupcheck": set(),
                "radgroupreply": self._rate_attributes(
                    plan.isp_download_mbps, plan.isp_upload_mbps, company
                ),
            }
            if plan.isp_usage_policy == "fup":
                groups[self._plan_group(plan, fup=True)] = {
                    "radgroupcheck": set(),
                    "radgroupreply": self._rate_attributes(
                        plan.isp_fup_download_mbps, plan.isp_fup_upload_mbps, company
                    ),
                }
        groups[const.THROTTLED_GROUP] = {
            "radgroupcheck": set(),
            "radgroupreply": self._rate_attributes(
                company.isp_radius_throttle_mbps,
                company.isp_radius_throttle_mbps,
                company,
            ),
        }
        if company.isp_radius_suspend_policy == "walled_garden":
            reply = self._rate_attributes(
                company.isp_radius_garden_mbps, company.isp_radius_garden_mbps, company
            )
            if company.isp_radius_garden_pool:
                reply.add(("Framed-Pool", ":=", company.isp_radius_garden_pool))
            if company.isp_radius_garden_address_list:
                reply.add(
                    (
                        "Mikrotik-Address-List",
                        ":=",
                        company.isp_radius_garden_address_list,
                    )
                )
            groups[const.SUSPENDED_GROUP] = {
                "radgroupcheck": set(),
                "radgroupreply": reply,
            }
        else:
            groups[const.SUSPENDED_GROUP] = {
                "radgroupcheck": {("Auth-Type", ":=", "Reject")},
                "radgroupreply": {("Reply-Message", ":=", "Account suspended")},
            }
        return groups

    @api.model
    def _desired_users(self, subscriptions):
        """Return ``{username: {"radcheck": rows, "radreply": rows, "groups":
        {(group, priority)}}}``; a terminated or draft subscription wants nothing."""
        desired = {}
        for sub in subscriptions.sudo():
            username = sub.radius_username
            if not username:
                continue
            if sub.state not in ("active", "suspended"):
                desired[username] = {
                    "radcheck": set(),
                    "radreply": set(),
                    "groups": set(),
                }
                continue
            check = {("Cleartext-Password", ":=", sub.radius_password or "")}
            # 0 is unlimited: no row, so FreeRADIUS runs no session count.
            if sub.radius_simultaneous_use > 0:
                check.add(("Simultaneous-Use", ":=", str(sub.radius_simultaneous_use)))
            if sub.radius_mac:
                check.add(("Calling-Station-Id", "==", sub.radius_mac))
            reply = set()
            if sub.radius_static_ip:
                reply.add(("Framed-IP-Address", ":=", sub.radius_static_ip))
            if sub.state == "suspended":
                group = const.SUSPENDED_GROUP
            elif sub.throttled:
                group = const.THROTTLED_GROUP
            else:
                group = self._plan_group(sub.plan_id, fup=sub.radius_fup_active)
            desired[username] = {
                "radcheck": check,
                "radreply": reply,
                "groups": {(group, 1)},
            }
        return desired

    # ------------------------------------------------------------------
    # Reconciliation: make FreeRADIUS's tables equal to Odoo's view
    # ------------------------------------------------------------------

    @api.model
    def _sync_rows(self, cursor, table, key_column, desired):
        """Make ``table``'s rows of the keys in ``desired`` equal to it.

        :param dict desired: ``{key: {(attribute, op, value), ...}}``
        :return: number of rows deleted plus inserted (the drift fixed)
        :rtype: int
        """
        if not desired:
            return 0
        # Table and column names are constants of this module, never input.
        cursor.execute(
            f"SELECT id, {key_column}, attribute, op, value FROM {table} "  # noqa: S608
            f"WHERE {key_column} = ANY(%s) FOR UPDATE",
            [list(desired)],
        )
        actual = defaultdict(dict)
        to_delete = []
        for row_id, key, attribute, op, value in cursor.fetchall():
            row = (attribute, op, value)
            if row in desired.get(key, ()) and row not in actual[key]:
                actual[key][row] = row_id
            else:
                to_delete.append(row_id)
        to_insert = [
            (key, *row)
            for key, rows in desired.items()
            for row in rows
            if row not in actual[key]
        ]
        if to_delete:
            cursor.execute(
                f"DELETE FROM {table} WHERE id = ANY(%s)",  # noqa: S608
                [to_delete],
            )
        if to_insert:
            execute_values(
                cursor,
                f"INSERT INTO {table} ({key_column}, attribute, op, value) "  # noqa: S608
                "VALUES %s",
                to_insert,
            )
        return len(to_delete) + len(to_insert)

    @api.model
    def _sync_user_groups(self, cursor, desired):
        cursor.execute(
            "SELECT id, username, groupname, priority FROM radusergroup "
            "WHERE username = ANY(%s) FOR UPDATE",
            [list(desired)],
        )
        actual = defaultdict(dict)
        to_delete = []
        for row_id, username, group, priority in cursor.fetchall():
            row = (group, priority)
            if row in desired[username]["groups"] and row not in actual[username]:
                actual[username][row] = row_id
            else:
                to_delete.append(row_id)
        to_insert = [
            (username, group, priority)
            for username, wanted in desired.items()
            for group, priority in wanted["groups"]
            if (group, priority) not in actual[username]
        ]
        if to_delete:
            cursor.execute("DELETE FROM radusergroup WHERE id = ANY(%s)", [to_delete])
        if to_insert:
            execute_values(
                cursor,
                "INSERT INTO radusergroup (username, groupname, priority) VALUES %s",
                to_insert,
            )
        return len(to_delete) + len(to_insert)

    @api.model
    def _sync_nas(self, cursor, company):
        """The ``nas`` table lists the company's NAS (FreeRADIUS reads its clients
        from it at start). Rows Odoo manages are marked in ``description``."""
        marker = f"odoo:{company.id}"
        desired = {
            (nas.ip_address, nas.name, nas.nas_type, nas.secret)
            for nas in self.env["isp.radius.nas"]
            .sudo()
            .search([("company_id", "=", company.id)])
        }
        cursor.execute(
            "SELECT id, nasname, shortname, type, secret FROM nas "
            "WHERE description = %s FOR UPDATE",
            [marker],
        )
        actual, to_delete = set(), []
        for row_id, *row in cursor.fetchall():
            if tuple(row) in desired and tuple(row) not in actual:
                actual.add(tuple(row))
            else:
                to_delete.append(row_id)
        to_insert = [(*row, marker) for row in desired - actual]
        if to_delete:
            cursor.execute("DELETE FROM nas WHERE id = ANY(%s)", [to_delete])
        if to_insert:
            execute_values(
                cursor,
                "INSERT INTO nas (nasname, shortname, type, secret, description) "
                "VALUES %s",
                to_insert,
            )
        return len(to_delete) + len(to_insert)

    @api.model
    def _reconcile(self, company, subscriptions=None, extra_usernames=()):
        """Make FreeRADIUS's tables say what Odoo says, idempotently.

        :param res.company company: whose RADIUS database
        :param isp.subscription subscriptions: only these users (a push); default
            every subscription of the company with a RADIUS username, plus the
            plan groups, the suspended group and the NAS list (a full pass)
        :param extra_usernames: former usernames whose rows must all go (unless
            one of ``subscriptions`` has it); a full pass adds every username
            Odoo once provisioned (``isp.radius.username``) and no longer owns
        :return: ``{"users": n, "groups": n, "nas": n}`` rows fixed (the drift)
        :rtype: dict
        :raise IspRadiusUnavailable: when the database cannot be reached
        """
        full = subscriptions is None
        usernames = set(extra_usernames)
        if full:
            subscriptions = (
                self.env["isp.subscription"]
                .sudo()
                .search(
                    [("company_id", "=", company.id), ("radius_username", "!=", False)]
                )
            )
            # Every username Odoo once provisioned: those no subscription has
            # now lose their rows. Usernames Odoo never wrote are not read.
            usernames.update(
                self.env["isp.radius.username"]
                .sudo()
                .search([("company_id", "=", company.id)])
                .mapped("username")
            )
        desired = {
            username: {"radcheck": set(), "radreply": set(), "groups": set()}
            for username in usernames
        }
        desired.update(self._desired_users(subscriptions))
        drift = {"users": 0, "groups": 0, "nas": 0}
        with self._radius_connection(company) as cursor:
            # One reconciler at a time per RADIUS database, whatever the worker.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('isp_radius_sync'))")
            groups = self._desired_groups(company)
            drift["groups"] += self._sync_rows(
                cursor,
                "radgroupcheck",
                "groupname",
                {name: rows["radgroupcheck"] for name, rows in groups.items()},
            )
            drift["groups"] += self._sync_rows(
                cursor,
                "radgroupreply",
                "groupname",
                {name: rows["radgroupreply"] for name, rows in groups.items()},
            )
            for table in USER_TABLES:
                drift["users"] += self._sync_rows(
                    cursor,
                    table,
                    "username",
                    {user: rows[table] for user, rows in desired.items()},
                )
            drift["users"] += self._sync_user_groups(cursor, desired)
            if full:
                drift["nas"] += self._sync_nas(cursor, company)
        return drift

    # ------------------------------------------------------------------
    # Live sessions
    # ------------------------------------------------------------------

    @api.model
    def _open_sessions(self, company, usernames):
        """Return the open sessions of ``usernames`` from ``radacct``:
        ``[{"username", "session_id", "nas_ip", "framed_ip"}]``."""
        if not usernames:
            return []
        with self._radius_connection(company) as cursor:
            cursor.execute(
                """SELECT username, acctsessionid, host(nasipaddress),
                          host(framedipaddress)
                     FROM radacct
                    WHERE username = ANY(%s) AND acctstoptime IS NULL""",
                [list(usernames)],
            )
            return [
                {
                    "username": username,
                    "session_id": session_id,
                    "nas_ip": nas_ip,
                    "framed_ip": framed_ip,
                }
                for username, session_id, nas_ip, framed_ip in cursor.fetchall()
            ]

    # ------------------------------------------------------------------
    # Accounting import (set-based)
    # ------------------------------------------------------------------

    @api.model
    def _import_accounting(self, company):
        """Import new accounting of the company's RADIUS database into daily usage.

        Set-based, in one ``COPY`` out of the RADIUS database and one into a
        temporary table. The ``radacct`` rows changed since the last import
        (those closed since the watermark minus an hour of overlap for late
        packets, and every open session) are read in one snapshot, in two
        kinds:

        * **live** sessions, one row each: open, closed within the last hour,
          closed as stale (the NAS may still send their Stop), or possibly
          seen by an earlier import (id up to the highest one read before).
          Each adds its growth since it was last seen (``isp.radius.session``,
          the ledger) to the usage of the day of its last packet, and the
          ledger remembers its new totals. So interim updates count once,
          repeated and late packets add nothing, and a 32-bit counter that
          wrapped (a NAS without Gigawords) adds the wrap.
        * **settled** sessions: closed more than an hour ago and never seen
          before. No later import reads them again, so they need no ledger
          row: the RADIUS database sums them per username and day, and only
          those sums cross over (a backlog of millions of rows becomes
          usernames x days).

        Usernames that match no subscription are kept with an empty
        subscription. The transfer goes through a spooled temporary file, so
        memory stays bounded whatever the backlog.

        :return: ``{"rows": radacct rows read, "live": of which live, "closed":
            stale sessions closed}``
        :rtype: dict
        """
        company = company.sudo()
        watermark = company.isp_radius_import_watermark or None  # naive UTC
        max_id = int(company.isp_radius_import_max_id or 0)
        stale_minutes = company.isp_radius_stale_minutes or 15
        tz = company.partner_id.tz or "UTC"
        # Read in one statement, so in one snapshot: each row is of exactly
        # one kind. The next import reads from now() - 1 hour: a session closed
        # before that is never read again (a closed row only changes through a
        # Stop, and only a stale-closed one can still get one).
        is_live = """(acctstoptime IS NULL
                   OR acctstoptime >= now() - interval '1 hour'
                   OR acctterminatecause = 'Stale-Session'
                   OR radacctid <= %(max_id)s)"""
        is_read = """(acctstoptime IS NULL
                   OR %(since)s::timestamptz IS NULL
                   OR acctstoptime >= %(since)s::timestamptz)"""
        day = """(COALESCE(acctstoptime, acctupdatetime, acctstarttime)
                  AT TIME ZONE %(tz)s)::date"""
        # Only constants of this method are formatted in, never input.
        query = f"""
            SELECT true, radacctid, 1, acctuniqueid, username, host(nasipaddress),
                   acctsessionid, acctstarttime, acctupdatetime, acctstoptime,
                   {day}, COALESCE(acctinputoctets, 0),
                   COALESCE(acctoutputoctets, 0), COALESCE(acctsessiontime, 0),
                   acctterminatecause, host(framedipaddress)
              FROM radacct
             WHERE {is_read} AND {is_live} IS TRUE
            UNION ALL
            SELECT false, max(radacctid), count(*), NULL, username, NULL, NULL,
                   NULL, NULL, NULL, {day}, sum(COALESCE(acctinputoctets, 0)),
                   sum(COALESCE(acctoutputoctets, 0)),
                   sum(COALESCE(acctsessiontime, 0)), NULL, NULL
              FROM radacct
             WHERE {is_read} AND {is_live} IS NOT TRUE
             GROUP BY username, {day}"""  # noqa: S608
        params = {
            "max_id": max_id,
            "tz": tz,
            "since": watermark
            and watermark.replace(tzinfo=timezone.utc) - timedelta(hours=1),
        }
        cr = self.env.cr
        # One import of the company at a time, whatever the worker: the
        # usage rows are added to, not upserted.
        cr.execute(
            "SELECT pg_advisory_xact_lock(hashtext('isp_radius_import'), %s)",
            [company.id],
        )
        with tempfile.SpooledTemporaryFile(max_size=COPY_SPOOL_BYTES) as spool:
            with self._radius_connection(company) as cursor:
                # Sessions that never sent Stop: close them so Simultaneous-Use
                # lets the user in again, at their last update.
                cursor.execute(
                    """UPDATE radacct
                          SET acctstoptime = COALESCE(acctupdatetime, acctstarttime),
                              acctterminatecause = 'Stale-Session'
                        WHERE acctstoptime IS NULL
                          AND COALESCE(acctupdatetime, acctstarttime)
                              < now() - make_interval(mins => %s)""",
                    [stale_minutes],
                )
                closed = cursor.rowcount
                cursor.execute("SELECT now()")
                new_watermark = cursor.fetchone()[0]
                statement = cursor.mogrify(query, params).decode()
                cursor.copy_expert(f"COPY ({statement}) TO STDOUT", spool)
            spool.seek(0)
            cr.execute(
                """CREATE TEMP TABLE isp_radius_import (
                       live boolean, radacct_id bigint, sessions bigint,
                       unique_id text, username text, nas_ip text,
                       session_id text, date_start timestamptz,
                       date_update timestamptz, date_stop timestamptz, day date,
                       bytes_in numeric, bytes_out numeric, session_time numeric,
                       terminate_cause text, framed_ip text
                   ) ON COMMIT DROP"""
            )
            cr.copy_expert("COPY isp_radius_import FROM STDIN", spool)
        # The planner needs the counts (a temporary table is never analyzed).
        cr.execute("ANALYZE isp_radius_import")
        cr.execute(
            """SELECT COALESCE(sum(sessions), 0)::bigint,
                      count(*) FILTER (WHERE live),
                      max(radacct_id)
                 FROM isp_radius_import"""
        )
        rows, live, read_max_id = cr.fetchone()
        wrap = const.COUNTER_WRAP
        self.env["isp.radius.usage"].flush_model()
        self.env["isp.radius.session"].flush_model()
        # The growth of each live session since it was last seen, summed per
        # username and day (few rows: the sessions of the last hour or so).
        cr.execute(
            """
            CREATE TEMP TABLE isp_radius_growth ON COMMIT DROP AS
            SELECT i.username, i.day,
                   sum(CASE WHEN s.id IS NULL THEN i.bytes_in
                            WHEN i.bytes_in >= s.bytes_in THEN i.bytes_in - s.bytes_in
                            WHEN s.bytes_in - i.bytes_in > %(wrap)s / 2
                                 AND s.bytes_in < %(wrap)s
                                THEN i.bytes_in + %(wrap)s - s.bytes_in
                            ELSE 0 END) AS bytes_in,
                   sum(CASE WHEN s.id IS NULL THEN i.bytes_out
                            WHEN i.bytes_out >= s.bytes_out
                                THEN i.bytes_out - s.bytes_out
                            WHEN s.bytes_out - i.bytes_out > %(wrap)s / 2
                                 AND s.bytes_out < %(wrap)s
                                THEN i.bytes_out + %(wrap)s - s.bytes_out
                            ELSE 0 END) AS bytes_out,
                   sum(GREATEST(i.session_time - COALESCE(s.session_time, 0), 0))
                       AS session_time
              FROM isp_radius_import i
              LEFT JOIN isp_radius_session s
                     ON s.company_id = %(company)s AND s.unique_id = i.unique_id
             WHERE i.live
             GROUP BY i.username, i.day
            """,
            {"wrap": wrap, "company": company.id},
        )
        # Fold it into the settled sums, which then hold the whole increment
        # of each username and day, once.
        cr.execute(
            """
            WITH added AS (
                UPDATE isp_radius_import i
                   SET bytes_in = i.bytes_in + g.bytes_in,
                       bytes_out = i.bytes_out + g.bytes_out,
                       session_time = i.session_time + g.session_time
                  FROM isp_radius_growth g
                 WHERE NOT i.live AND i.username = g.username AND i.day = g.day
             RETURNING i.username, i.day
            )
            INSERT INTO isp_radius_import (
                live, sessions, username, day, bytes_in, bytes_out, session_time)
            SELECT false, 0, g.username, g.day, g.bytes_in, g.bytes_out,
                   g.session_time
              FROM isp_radius_growth g
             WHERE NOT EXISTS (SELECT 1 FROM added a
                                WHERE a.username = g.username AND a.day = g.day)
            """
        )
        # Add the increments to the usage rows that exist, create the others.
        # A plain INSERT, not ON CONFLICT (whose speculative insertion costs a
        # third more per row): the advisory lock keeps imports of the company
        # one at a time, and only imports write usage. A row is found by its
        # unique key: username, day, and the company's subscription of that
        # username, or none and the company (an unmatched username).
        same_row = """u.username = i.username AND u.date = i.day
               AND (u.subscription_id = sub.id
                    OR (sub.id IS NULL AND u.subscription_id IS NULL
                        AND u.unmatched_company_id = %(company)s))"""
        with_subscription = """isp_radius_import i
              LEFT JOIN isp_subscription sub
                     ON sub.radius_username = i.username
                    AND sub.company_id = %(company)s"""
        cr.execute(
            f"""
            UPDATE isp_radius_usage u
               SET bytes_in = u.bytes_in + i.bytes_in,
                   bytes_out = u.bytes_out + i.bytes_out,
                   total_gb = u.total_gb + (i.bytes_in + i.bytes_out) / 1e9,
                   session_time = u.session_time + i.session_time
              FROM {with_subscription}
             WHERE NOT i.live
               AND {same_row}
               AND (i.bytes_in > 0 OR i.bytes_out > 0 OR i.session_time > 0)
            """,  # noqa: S608 - constants of this method
            {"company": company.id},
        )
        # The company is stored only on rows without a subscription: each
        # stored company_id would cost a foreign-key check per row.
        cr.execute(
            f"""
            INSERT INTO isp_radius_usage (
                unmatched_company_id, username, subscription_id, date, bytes_in,
                bytes_out, total_gb, session_time)
            SELECT CASE WHEN sub.id IS NULL THEN %(company)s END, i.username,
                   sub.id, i.day, i.bytes_in, i.bytes_out,
                   (i.bytes_in + i.bytes_out) / 1e9, i.session_time
              FROM {with_subscription}
             WHERE NOT i.live
               AND (i.bytes_in > 0 OR i.bytes_out > 0 OR i.session_time > 0)
               AND NOT EXISTS (SELECT 1 FROM isp_radius_usage u WHERE {same_row})
             -- In index order: each index page is filled once, not revisited.
             ORDER BY i.username, i.day
            """,  # noqa: S608 - constants of this method
            {"company": company.id},
        )
        # Remember each live session's newest totals (never going backwards).
        cr.execute(
            """
            INSERT INTO isp_radius_session (
                company_id, unique_id, username, subscription_id, nas_ip,
                session_id, date_start, date_update, date_stop, bytes_in,
                bytes_out, session_time, terminate_cause, framed_ip)
            SELECT %(company)s, i.unique_id, i.username, sub.id, i.nas_ip,
                   i.session_id, i.date_start AT TIME ZONE 'UTC',
                   i.date_update AT TIME ZONE 'UTC', i.date_stop AT TIME ZONE 'UTC',
                   i.bytes_in, i.bytes_out, i.session_time, i.terminate_cause,
                   i.framed_ip
              FROM isp_radius_import i
              LEFT JOIN isp_subscription sub
                     ON sub.radius_username = i.username
                    AND sub.company_id = %(company)s
             WHERE i.live
            ON CONFLICT (company_id, unique_id) DO UPDATE
               -- Counters only move forward, or wrap: an older packet that
               -- arrived late never takes growth back.
               SET bytes_in = CASE
                       WHEN EXCLUDED.bytes_in >= isp_radius_session.bytes_in
                         OR isp_radius_session.bytes_in - EXCLUDED.bytes_in
                            > %(wrap)s / 2
                       THEN EXCLUDED.bytes_in ELSE isp_radius_session.bytes_in END,
                   bytes_out = CASE
                       WHEN EXCLUDED.bytes_out >= isp_radius_session.bytes_out
                         OR isp_radius_session.bytes_out - EXCLUDED.bytes_out
                            > %(wrap)s / 2
                       THEN EXCLUDED.bytes_out ELSE isp_radius_session.bytes_out END,
                   session_time = GREATEST(EXCLUDED.session_time,
                                           isp_radius_session.session_time),
                   date_update = GREATEST(EXCLUDED.date_update,
                                          isp_radius_session.date_update),
                   date_stop = COALESCE(EXCLUDED.date_stop,
                                        isp_radius_session.date_stop),
                   terminate_cause = COALESCE(EXCLUDED.terminate_cause,
                                              isp_radius_session.terminate_cause),
                   subscription_id = COALESCE(EXCLUDED.subscription_id,
                                              isp_radius_session.subscription_id)
            """,
            {"company": company.id, "wrap": wrap},
        )
        cr.execute("DROP TABLE isp_radius_import, isp_radius_growth")
        self.env["isp.radius.usage"].invalidate_model()
        self.env["isp.radius.session"].invalidate_model()
        company.write(
            {
                "isp_radius_import_watermark": new_watermark.astimezone(
                    timezone.utc
                ).replace(tzinfo=None),
                "isp_radius_import_max_id": max(max_id, read_max_id or 0),
            }
        )
        _logger.info(
            "RADIUS accounting of %s: %s radacct rows imported (%s live sessions), "
            "%s stale sessions closed",
            company.name,
            rows,
            live,
            closed,
        )
        return {"rows": int(rows), "live": live, "closed": closed}
