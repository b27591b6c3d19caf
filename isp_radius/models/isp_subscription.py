# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ipaddress
import logging
import math
import re
import secrets
import string

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.modules.registry import Registry
from odoo.tools import format_date

from .isp_radius import IspRadiusUnavailable, radius_packet
from .isp_radius_usage import BYTES_PER_GB

_logger = logging.getLogger(__name__)

# What FreeRADIUS's rlm_sql leaves unescaped in its queries (its default
# safe_characters, without the space that filter_username rejects): a username
# with any other character would never match its radcheck rows.
USERNAME_RE = re.compile(r"^[A-Za-z0-9@._:/-]{1,64}$")
MAC_RE = re.compile(r"^([0-9A-F]{2}[:-]){5}[0-9A-F]{2}$")
RADIUS_FIELDS = {
    "radius_username",
    "radius_password",
    "radius_static_ip",
    "radius_mac",
    "radius_simultaneous_use",
}
PUSH_KEY = "isp_radius.push"
# A User-Password carries at most 128 octets (RFC 2865, 5.2).
PASSWORD_MAX_OCTETS = 128
# Simultaneous-Use: 0 (unlimited) up to this many sessions of one login.
SIMULTANEOUS_USE_MAX = 1000


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    radius_username = fields.Char(
        string="RADIUS username",
        copy=False,
        index=True,
        tracking=True,
        help="PPPoE / hotspot login. Default: the account number in lower case.",
    )
    radius_password = fields.Char(
        string="RADIUS password",
        copy=False,
        groups="isp_billing.group_isp_user",
        help="Generated when the subscription is created.",
    )
    radius_static_ip = fields.Char(string="Static IP", tracking=True)
    radius_mac = fields.Char(
        string="MAC binding", help="Only this device (Calling-Station-Id) may log in."
    )
    radius_simultaneous_use = fields.Integer(
        string="Simultaneous logins",
        default=1,
        help="How many sessions the login may have at once (FreeRADIUS's "
        "Simultaneous-Use, checked against its accounting at every login). "
        "0: unlimited, no check.",
    )
    radius_fup_active = fields.Boolean(
        string="Fair-use speed", readonly=True, copy=False
    )
    radius_alert_period = fields.Date(
        string="RADIUS alert period", readonly=True, copy=False
    )
    radius_alert_level = fields.Integer(
        string="Usage alert sent (%)", readonly=True, copy=False
    )
    radius_sync_state = fields.Selection(
        [
            ("synced", "In FreeRADIUS"),
            ("pending", "Change pending"),
            ("error", "FreeRADIUS unreachable"),
        ],
        string="RADIUS",
        readonly=True,
        copy=False,
    )
    radius_sync_error = fields.Text(
        string="FreeRADIUS sync error", readonly=True, copy=False
    )
    radius_synced_at = fields.Datetime(
        string="Synced to FreeRADIUS on", readonly=True, copy=False
    )
    radius_session_ids = fields.One2many(
        "isp.radius.session", "subscription_id", string="Sessions"
    )
    radius_usage_ids = fields.One2many(
        "isp.radius.usage", "subscription_id", string="Usage"
    )
    radius_online = fields.Boolean(string="Online", compute="_compute_radius_usage_now")
    radius_period_gb = fields.Float(
        string="Used this period (GB)",
        compute="_compute_radius_usage_now",
        digits=(16, 3),
    )

    _sql_constraints = [
        (
            "radius_username_unique",
            "unique(radius_username)",
            "This RADIUS username is taken.",
        ),
    ]

    def _compute_radius_usage_now(self):
        for sub in self:
            sub.radius_online = bool(
                sub.radius_session_ids.filtered(lambda s: not s.date_stop)
            )
            start, end = sub._radius_current_period()
            sub.radius_period_gb = (
                sub._radius_used_bytes(start, end) / BYTES_PER_GB if start else 0.0
            )

    @api.constrains(*RADIUS_FIELDS)
    def _check_radius_fields(self):
        for sub in self:
            if sub.radius_username and not USERNAME_RE.match(sub.radius_username):
                raise ValidationError(
                    self.env._(
                        "RADIUS username %(username)r can only use letters A-Z, "
                        "digits and @ . _ : / - (no spaces, quotes or accents), at "
                        "most 64 characters: FreeRADIUS would never match it.",
                        username=sub.radius_username,
                    )
                )
            if sub.radius_static_ip:
                try:
                    ipaddress.IPv4Address(sub.radius_static_ip)
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "%(ip)s is not an IPv4 address.", ip=sub.radius_static_ip
                        )
                    ) from error
            if sub.radius_mac and not MAC_RE.match(sub.radius_mac):
                raise ValidationError(
                    self.env._(
                        "%(mac)s is not a MAC address like AA:BB:CC:DD:EE:FF.",
                        mac=sub.radius_mac,
                    )
                )
            if sub.radius_password:
                self._radius_check_password(sub.radius_password)
            self._radius_check_simultaneous_use(sub.radius_simultaneous_use)

    @api.model
    def _radius_check_password(self, password):
        if len(password.encode()) > PASSWORD_MAX_OCTETS:
            raise ValidationError(
                self.env._(
                    "The RADIUS password is %(octets)s bytes long (UTF-8): a RADIUS "
                    "User-Password carries at most %(max)s bytes, so the subscriber "
                    "could never log in with it.",
                    octets=len(password.encode()),
                    max=PASSWORD_MAX_OCTETS,
                )
            )
        if any(ord(char) < 32 or ord(char) == 127 for char in password):
            raise ValidationError(
                self.env._(
                    "The RADIUS password contains a control character (tab, line "
                    "break, NUL...): FreeRADIUS cannot store or match it."
                )
            )

    @api.model
    def _radius_check_simultaneous_use(self, value):
        try:
            whole = int(value) == float(value)
        except (TypeError, ValueError, OverflowError):
            whole = False
        if not whole or not 0 <= int(value) <= SIMULTANEOUS_USE_MAX:
            raise ValidationError(
                self.env._(
                    "Simultaneous logins must be a whole number from 0 (unlimited) "
                    "to %(max)s, not %(value)s.",
                    max=SIMULTANEOUS_USE_MAX,
                    value=value,
                )
            )

    @api.model
    def _radius_check_vals(self, vals):
        """Refuse out-of-range values before they reach the database (an
        integer past 2^31 would be a raw database error)."""
        if "radius_simultaneous_use" in vals:
            self._radius_check_simultaneous_use(vals["radius_simultaneous_use"] or 0)
        if vals.get("radius_password"):
            self._radius_check_password(vals["radius_password"])

    # ------------------------------------------------------------------
    # CRUD: credentials, and a push after every change FreeRADIUS must know
    # ------------------------------------------------------------------

    @api.model
    def _radius_new_password(self):
        alphabet = string.ascii_letters + string.digits
        return "".join(secrets.choice(alphabet) for __ in range(12))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._radius_check_vals(vals)
            if vals.get("radius_mac"):
                vals["radius_mac"] = vals["radius_mac"].upper().replace("-", ":")
            vals.setdefault("radius_password", self._radius_new_password())
        subs = super().create(vals_list)
        for sub in subs.filtered(lambda s: not s.radius_username):
            sub.radius_username = sub.account_number.lower()
        self.env["isp.radius.username"]._radius_record(subs)
        return subs

    def unlink(self):
        # The usage of a deleted subscription is kept as an unmatched
        # username's, which stores its company (usage without a subscription
        # has no other way to it).
        self.env["isp.radius.usage"].flush_model()
        self.env.cr.execute(
            """UPDATE isp_radius_usage u SET unmatched_company_id = s.company_id
                 FROM isp_subscription s
                WHERE s.id = u.subscription_id AND s.id = ANY(%s)""",
            [self.ids],
        )
        self.env["isp.radius.usage"].invalidate_model(["unmatched_company_id"])
        return super().unlink()

    def write(self, vals):
        self._radius_check_vals(vals)
        if vals.get("radius_mac"):
            vals = dict(vals, radius_mac=vals["radius_mac"].upper().replace("-", ":"))
        old_usernames = (
            {sub.id: sub.radius_username for sub in self}
            if "radius_username" in vals
            else {}
        )
        res = super().write(vals)
        if {"radius_username", "company_id"} & set(vals):
            # Odoo's from now on, before anything reaches FreeRADIUS.
            self.env["isp.radius.username"]._radius_record(self)
        if RADIUS_FIELDS & set(vals):
            running = self.filtered(lambda s: s.state in ("active", "suspended"))
            renamed = [
                (sub, old)
                for sub in running
                if (old := old_usernames.get(sub.id)) and old != sub.radius_username
            ]
            running._radius_push(forget=renamed)
        return res

    # ------------------------------------------------------------------
    # Billing-side hooks
    # ------------------------------------------------------------------

    def _isp_state_changed(self, old_states, reason):
        res = super()._isp_state_changed(old_states, reason)
        actions = {}
        for sub in self:
            old = old_states.get(sub.id)
            if sub.state == "suspended":
                actions[sub.id] = "suspend"
            elif sub.state == "active" and old == "suspended":
                actions[sub.id] = "reconnect"
            elif sub.state == "terminated":
                actions[sub.id] = "disconnect"
            else:
                actions[sub.id] = None
        self._radius_push(actions=actions)
        return res

    def _isp_throttle_changed(self):
        res = super()._isp_throttle_changed()
        # a suspended one gets its speed when it is reconnected
        active = self.filtered(lambda s: s.state == "active")
        active._radius_push(actions=dict.fromkeys(active.ids, "rate"))
        return res

    def _change_plan(self, new_plan, date, reason=False, date_ref=None, bill=True):
        old_plan = self.plan_id
        move = super()._change_plan(
            new_plan, date, reason=reason, date_ref=date_ref, bill=bill
        )
        if self.plan_id != old_plan and self.state in ("active", "suspended"):
            self.radius_fup_active = False
            self._radius_push(
                actions={self.id: "rate" if self.state == "active" else None}
            )
        return move

    def _radius_used_bytes(self, date_start, date_end):
        self.ensure_one()
        groups = (
            self.env["isp.radius.usage"]
            .sudo()
            ._read_group(
                [
                    ("subscription_id", "=", self.id),
                    ("date", ">=", date_start),
                    ("date", "<", date_end),
                ],
                [],
                ["bytes_in:sum", "bytes_out:sum"],
            )
        )
        bytes_in, bytes_out = groups[0] if groups else (0, 0)
        return (bytes_in or 0) + (bytes_out or 0)

    def _radius_allowance_bytes(self, period_start):
        """The data allowance of the billing period starting on
        ``period_start``: the plan's plus the top-ups bought for that period
        (bytes, 1 GB = 10^9). Writes nothing."""
        self.ensure_one()
        topups = (
            self.env["isp.radius.topup"]
            .sudo()
            .search(
                [("subscription_id", "=", self.id), ("period_start", "=", period_start)]
            )
        )
        gb = self.plan_id.product_tmpl_id.isp_data_allowance_gb + sum(
            topups.mapped("gb")
        )
        return gb * BYTES_PER_GB

    def _radius_usage_level(self, used, allowance):
        """The usage alert level reached: 100 at or over the allowance, the
        company's *Near the data cap* share (80 by default) at or over that
        share, else 0."""
        self.ensure_one()
        near = self.company_id.isp_radius_near_cap_percent
        if used >= allowance:
            return 100
        return near if used * 100 >= near * allowance else 0

    def _radius_current_period(self):
        """The billed period that contains today, ``(start, end)`` or
        ``(None, None)``."""
        self.ensure_one()
        period = self._isp_billed_period()
        return (period.date_start, period.date_end) if period else (None, None)

    def _isp_usage_invoice_line_vals(self, date_start, date_end):
        """Override of `isp_billing`: bill data over the plan's allowance, in
        whole blocks, in arrears."""
        lines = super()._isp_usage_invoice_line_vals(date_start, date_end)
        plan = self.plan_id.product_tmpl_id
        if plan.isp_usage_policy != "overage" or plan.isp_data_unlimited:
            return lines
        used = self._radius_used_bytes(date_start, date_end)
        allowance = self._radius_allowance_bytes(date_start)
        over = used - allowance
        if over <= 0:
            return lines
        block = plan.isp_overage_block_gb * BYTES_PER_GB
        blocks = math.ceil(over / block)
        product = plan.isp_overage_product_id
        price = (
            self.pricelist_id._get_product_price(
                product, blocks, currency=self.currency_id, date=date_end
            )
            if self.pricelist_id
            else product.lst_price
        )
        name = self.env._(
            "%(product)s, %(start)s to %(end)s: %(used).3f GB used, %(allowance)g GB "
            "included, %(over).3f GB over = %(blocks)s block(s) of %(block)g GB",
            product=product.display_name,
            start=format_date(self.env, date_start),
            end=format_date(self.env, date_end),
            used=used / BYTES_PER_GB,
            allowance=allowance / BYTES_PER_GB,
            over=over / BYTES_PER_GB,
            blocks=blocks,
            block=plan.isp_overage_block_gb,
        )
        return lines + [
            {
                "product_id": product.id,
                "name": name,
                "quantity": blocks,
                "price_unit": price,
            }
        ]

    # ------------------------------------------------------------------
    # Push to FreeRADIUS after the transaction commits
    # ------------------------------------------------------------------

    def _radius_push(self, actions=None, forget=()):
        """Send this transaction's changes to FreeRADIUS once it has committed.

        The subscriptions are marked *Change pending* now, and what their
        state alone cannot tell later is written to the outbox
        (``isp.radius.outbox``) in this same transaction: the former usernames
        whose rows must go, the CoA or Disconnect that ``actions`` asks for.
        After the commit their FreeRADIUS rows are rewritten and the outbox is
        applied, in order; whatever cannot be applied then (FreeRADIUS or the
        NAS unreachable) stays in the outbox for the reconciliation job.

        :param dict actions: ``{subscription id: "suspend" | "reconnect" |
            "disconnect" | "rate" | None}``
        :param list forget: ``(subscription, former username)`` pairs
        """
        # Only where the company has a FreeRADIUS database to push to.
        subs = self.filtered(
            lambda s: s.radius_username and s.company_id.sudo().isp_radius_dsn
        )
        if not subs:
            return
        subs.sudo().write({"radius_sync_state": "pending"})
        data = self.env.cr.postcommit.data
        if PUSH_KEY not in data:
            data[PUSH_KEY] = {"ids": set(), "queued": set(), "last_action": {}}
            dbname = self.env.cr.dbname
            payload = data[PUSH_KEY]
            context = {"lang": self.env.lang}

            @self.env.cr.postcommit.add
            def push():
                registry = Registry(dbname)
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, context)
                    env["isp.subscription"].browse(
                        payload["ids"]
                    ).exists()._radius_apply_pending()

        payload = data[PUSH_KEY]
        payload["ids"].update(subs.ids)
        rows = []
        for sub, old in forget:
            if sub in subs and ("forget", sub.id, old) not in payload["queued"]:
                payload["queued"].add(("forget", sub.id, old))
                rows.append(
                    {
                        "company_id": sub.company_id.id,
                        "subscription_id": sub.id,
                        "kind": "forget",
                        "username": old,
                    }
                )
        for sub in subs:
            action = (actions or {}).get(sub.id)
            # The same request twice in a row would find no session the second time.
            if action and payload["last_action"].get(sub.id) != action:
                payload["last_action"][sub.id] = action
                rows.append(
                    {
                        "company_id": sub.company_id.id,
                        "subscription_id": sub.id,
                        "kind": "session",
                        "username": sub.radius_username,
                        "action": action,
                    }
                )
        if rows:
            self.env["isp.radius.outbox"].sudo().create(rows)

    def _radius_apply_pending(self):
        """After the commit: write these subscriptions' rows and apply their
        companies' outbox (see ``isp.radius.outbox._radius_apply``); never
        raises for an unreachable FreeRADIUS."""
        outbox = self.env["isp.radius.outbox"]
        for company, subs in self.sudo().grouped("company_id").items():
            if not company.isp_radius_dsn:  # nothing to push to (neutralised)
                continue
            try:
                outbox._radius_apply(company, subs)
            except IspRadiusUnavailable as error:
                _logger.warning("RADIUS push postponed: %s", error.args[0])

    def _radius_sync(self, actions=None, forget=()):
        """Write these subscriptions' rows to FreeRADIUS now, then act on their
        live sessions. Runs after the commit (see ``_radius_push``) or from the
        reconciliation job; never raises for an unreachable FreeRADIUS."""
        actions = actions or {}
        gateway = self.env["isp.radius"]
        for company, subs in self.sudo().grouped("company_id").items():
            if not company.isp_radius_dsn:
                subs.write(
                    {
                        "radius_sync_state": "error",
                        "radius_sync_error": self.env._(
                            "No FreeRADIUS database is set for %(company)s "
                            "(Settings > ISP).",
                            company=company.name,
                        ),
                    }
                )
                continue
            try:
                if forget:
                    gone = self.browse()
                    gateway._reconcile(company, gone, extra_usernames=forget)
                gateway._reconcile(company, subs)
            except IspRadiusUnavailable as error:
                message = error.args[0]
                _logger.warning("RADIUS push postponed: %s", message)
                subs.write({"radius_sync_state": "error", "radius_sync_error": message})
                continue
            subs.write(
                {
                    "radius_sync_state": "synced",
                    "radius_sync_error": False,
                    "radius_synced_at": fields.Datetime.now(),
                }
            )
            for sub in subs:
                if actions.get(sub.id):
                    sub._radius_act(actions[sub.id])

    def action_radius_sync(self):
        """Button and list action: write these subscriptions' rows to FreeRADIUS
        now (no CoA, no disconnect). ISP users only, on subscriptions they may
        change."""
        if not self.env.user.has_group("isp_billing.group_isp_user"):
            raise AccessError(
                self.env._("Only ISP users can send subscriptions to FreeRADIUS.")
            )
        self.check_access("write")
        self.filtered("radius_username")._radius_sync()
        return True

    # ------------------------------------------------------------------
    # CoA / Disconnect
    # ------------------------------------------------------------------

    def _radius_usernames(self):
        """The subscription's username and its former ones that no other
        subscription has taken: its live sessions may be under any of them."""
        self.ensure_one()
        former = (
            self.env["isp.radius.username"]
            .sudo()
            .search(
                [
                    ("subscription_id", "=", self.id),
                    ("company_id", "=", self.company_id.id),
                ]
            )
            .mapped("username")
        )
        return [self.radius_username, *(u for u in former if u != self.radius_username)]

    def _radius_act(self, action):
        """Bring the subscriber's live sessions in line: a CoA with the new speed,
        or a Disconnect so the next login gets the new rows. Each answer (ACK, NAK
        with its cause, no answer) goes on the chatter.

        :return: ``(done, error)``: ``done`` is false when FreeRADIUS's
            database or a NAS did not answer (the change must be tried again)
        :rtype: tuple
        """
        self.ensure_one()
        gateway = self.env["isp.radius"]
        company = self.company_id
        try:
            sessions = gateway._open_sessions(company, self._radius_usernames())
        except IspRadiusUnavailable as error:
            return False, error.args[0]
        all_nas = (
            self.env["isp.radius.nas"].sudo().search([("company_id", "=", company.id)])
        )
        silent = []
        for session in sessions:
            nas = all_nas.filtered(lambda n, ip=session["nas_ip"]: n.ip_address == ip)
            if not nas:
                self.message_post(
                    body=self.env._(
                        "Session %(session)s is on %(ip)s, which is not a known NAS: "
                        "nothing sent.",
                        session=session["session_id"],
                        ip=session["nas_ip"],
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            attributes = {
                "User-Name": session["username"],
                "Acct-Session-Id": session["session_id"],
                "NAS-IP-Address": session["nas_ip"],
                "Framed-IP-Address": session["framed_ip"],
            }
            coa = self._radius_coa_attributes(action, nas[:1])
            if coa:
                result = self._radius_request(nas[:1], "coa", {**attributes, **coa})
                if result in ("ack", "disabled"):
                    continue
            result = self._radius_request(nas[:1], "disconnect", attributes)
            if result == "timeout":
                silent.append(nas[:1].name)
        if silent:
            return False, self.env._(
                "No answer from %(nas)s: the NAS is down or the shared secret does "
                "not match.",
                nas=", ".join(sorted(set(silent))),
            )
        return True, ""

    def _radius_coa_attributes(self, action, nas):
        """Attributes of a CoA that can replace a disconnect, else ``None``."""
        gateway = self.env["isp.radius"]
        company = self.company_id
        if action == "rate":
            plan = self.plan_id.product_tmpl_id
            if self.throttled:
                down = up = company.isp_radius_throttle_mbps
            elif self.radius_fup_active:
                down, up = plan.isp_fup_download_mbps, plan.isp_fup_upload_mbps
            else:
                down, up = plan.isp_download_mbps, plan.isp_upload_mbps
        elif (
            action == "suspend"
            and company.isp_radius_suspend_policy == "walled_garden"
            and nas.nas_type == "mikrotik"
        ):
            down = up = company.isp_radius_garden_mbps
        else:
            return None
        rows = gateway._rate_attributes(down, up, company)
        return {
            name: value for name, __, value in rows if name in ("Mikrotik-Rate-Limit",)
        }

    def _radius_request(self, nas, kind, attributes):
        code = (
            radius_packet.CoARequest
            if kind == "coa"
            else radius_packet.DisconnectRequest
        )
        result, cause = self.env["isp.radius"]._radius_send(nas, code, attributes)
        label = "CoA-Request" if kind == "coa" else "Disconnect-Request"
        outcome = {
            "ack": self.env._("acknowledged (ACK)"),
            "nak": self.env._("refused (NAK: %(cause)s)", cause=cause or "-"),
            "timeout": self.env._(
                "no answer: the NAS is down or the shared secret does not match"
            ),
            "disabled": self.env._(
                "not sent: CoA / Disconnect are turned off (Settings > ISP) or the "
                "NAS has no shared secret"
            ),
        }[result]
        self.message_post(
            body=self.env._(
                "%(request)s to %(nas)s (%(ip)s) for session %(session)s: %(outcome)s",
                request=label,
                nas=nas.name,
                ip=nas.ip_address,
                session=attributes.get("Acct-Session-Id"),
                outcome=outcome,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return result

    # ------------------------------------------------------------------
    # Jobs
    # ------------------------------------------------------------------

    @api.model
    def _cron_radius_reconcile(self):
        """Apply pending changes (the outbox), make every company's FreeRADIUS
        tables equal to Odoo's view, and note the drift found and fixed."""
        companies = (
            self.env["res.company"].sudo().search([("isp_radius_dsn", "!=", False)])
        )
        for company in companies:
            self._radius_reconcile_company(company)
        return True

    @api.model
    def _radius_reconcile_company(self, company):
        company = company.sudo()
        try:
            drift = self.env["isp.radius.outbox"]._radius_apply(company)
        except IspRadiusUnavailable as error:
            _logger.warning("RADIUS reconciliation postponed: %s", error.args[0])
            company.isp_radius_last_reconcile = self.env._(
                "%(date)s: FreeRADIUS unreachable: %(error)s",
                date=fields.Datetime.now(),
                error=error.args[0],
            )
            return
        company.isp_radius_last_reconcile = self.env._(
            "%(date)s: %(users)s user rows, %(groups)s group rows, %(nas)s NAS "
            "rows fixed",
            date=fields.Datetime.now(),
            **drift,
        )

    @api.model
    def _cron_radius_import(self):
        """Import accounting, then act on usage: alerts at 80 % and 100 % of
        the allowance, fair-use speed over it, full speed back next period."""
        companies = (
            self.env["res.company"].sudo().search([("isp_radius_dsn", "!=", False)])
        )
        for company in companies:
            try:
                self.env["isp.radius"]._import_accounting(company)
            except IspRadiusUnavailable as error:
                _logger.warning("RADIUS accounting import postponed: %s", error.args[0])
                continue
            self.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "active"),
                    ("plan_id.isp_data_unlimited", "=", False),
                ]
            )._radius_check_usage()
        return True

    def _radius_check_usage(self):
        template = self.env.ref("isp_radius.mail_template_usage_alert")
        for sub in self:
            start, end = sub._radius_current_period()
            if not start:
                continue
            plan = sub.plan_id.product_tmpl_id
            if sub.radius_alert_period != start:
                # A new period: full speed again, alerts re-armed.
                restore = sub.radius_fup_active
                sub.write(
                    {
                        "radius_alert_period": start,
                        "radius_alert_level": 0,
                        "radius_fup_active": False,
                    }
                )
                if restore:
                    sub._radius_push(actions={sub.id: "rate"})
            allowance = sub._radius_allowance_bytes(start)
            used = sub._radius_used_bytes(start, end)
            level = sub._radius_usage_level(used, allowance)
            if level > sub.radius_alert_level:
                sub.radius_alert_level = level
                template.with_context(
                    isp_used_gb=round(used / BYTES_PER_GB, 3),
                    isp_level=level,
                ).send_mail(sub.id)
            if (
                level == 100
                and plan.isp_usage_policy == "fup"
                and not sub.radius_fup_active
            ):
                sub.radius_fup_active = True
                sub.message_post(
                    body=self.env._(
                        "Allowance of %(gb)g GB used up on %(date)s: fair-use speed "
                        "until the next period.",
                        gb=plan.isp_data_allowance_gb,
                        date=format_date(self.env, sub._today()),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                sub._radius_push(actions={sub.id: "rate"})
