# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The RADIUS columns of the migration import: the username and password
are kept as the previous system had them, so that no router or customer
device is reconfigured, and the static IP."""

import ipaddress
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import ValidationError

from .isp_subscription import USERNAME_RE

RADIUS_COLUMNS = ("radius_username", "radius_password", "static_ip")


def filtered_by_freeradius(username):
    """Does FreeRADIUS's standard ``filter_username`` policy (the test
    bed's, ``tests/freeradius/raddb/policy.d/filter``) reject this login?
    Several @, two dots in a row, a trailing dot, a realm that starts with
    a dot or has none."""
    if "@" not in username:
        return ".." in username or username.endswith(".")
    realm = username.split("@", 1)[1]
    return (
        "@" in realm
        or ".." in username
        or username.endswith(".")
        or realm.startswith(".")
        or "." not in realm.strip(".")
    )


class IspSubscriberImport(models.AbstractModel):
    _inherit = "isp.subscriber.import"

    @api.model
    def _import_columns(self):
        return super()._import_columns() + list(RADIUS_COLUMNS)

    @api.model
    def _template_example_extra(self):
        return {
            **super()._template_example_extra(),
            "radius_username": "wanjiku.kamau",
            "radius_password": "pppoe-s3cret",
            "static_ip": "10.20.0.15",
        }

    @api.model
    def _map_row(self, mapping, source):
        """Override of `isp_billing`: phpNuxBill's customer username and
        PPPoE password (else its password); Splynx's internet service login,
        password and IPv4 address."""
        row = super()._map_row(mapping, source)
        if mapping == "phpnuxbill":
            row.update(
                radius_username=source.get("username"),
                radius_password=source.get("pppoe_password") or source.get("password"),
            )
        elif mapping == "splynx":
            row.update(
                radius_username=source.get("service_login") or source.get("login"),
                radius_password=source.get("service_password"),
                static_ip=source.get("ipv4"),
            )
        return row

    @api.model
    def _new_keys(self):
        return {
            **super()._new_keys(),
            "radius_username": defaultdict(list),
            "static_ip": defaultdict(list),
        }

    @api.model
    def _collect_keys(self, row, keys):
        """Override of `isp_billing`: the usernames and static IPs of the
        file, each with its lines."""
        super()._collect_keys(row, keys)
        for column in ("radius_username", "static_ip"):
            value = _cell(row.get(column))
            if value:
                keys[column][value].append(row.get("_line"))

    @api.model
    def _prepare_context_keys(self, keys, company, pricelist=None):
        ctx = super()._prepare_context_keys(keys, company, pricelist=pricelist)
        Sub = self.env["isp.subscription"].with_context(active_test=False)
        usernames = set(keys["radius_username"])
        ips = set(keys["static_ip"])
        ctx["radius_usernames"] = {
            sub.radius_username: sub
            for sub in Sub.search([("radius_username", "in", list(usernames))])
        }
        ctx["radius_ips"] = {
            sub.radius_static_ip: sub
            for sub in Sub.search(
                [
                    ("radius_static_ip", "in", list(ips)),
                    ("company_id", "=", company.id),
                    ("state", "!=", "terminated"),
                ]
            )
        }
        return ctx

    @api.model
    def _prepare_row(self, row, ctx):
        """Override of `isp_billing`: the RADIUS username (FreeRADIUS's
        characters, not another subscription's), the password (what a RADIUS
        User-Password can carry) and the static IP (IPv4, not another running
        subscription's of the company)."""
        values, errors = super()._prepare_row(row, ctx)
        _ = self.env._
        mine = values.get("_existing")
        username = _cell(row.get("radius_username"))
        if username:
            owner = ctx["radius_usernames"].get(username)
            if not USERNAME_RE.match(username):
                errors.append(
                    _(
                        "RADIUS username %(username)s: only letters A-Z, digits and "
                        "@ . _ : / -, at most 64 characters",
                        username=username,
                    )
                )
            elif filtered_by_freeradius(username):
                errors.append(
                    _(
                        "RADIUS username %(username)s: FreeRADIUS's filter_username "
                        "policy rejects it (several @, two dots in a row, a trailing "
                        "dot, or a realm without a dot)",
                        username=username,
                    )
                )
            elif owner and owner != mine:
                errors.append(
                    _(
                        "duplicate username %(username)s: subscription %(sub)s has it",
                        username=username,
                        sub=owner.account_number,
                    )
                )
        values["radius_username"] = username
        password = row.get("radius_password")
        password = "" if password is None else str(password)
        if password:
            try:
                self.env["isp.subscription"]._radius_check_password(password)
            except ValidationError as error:
                errors.append(error.args[0])
        values["radius_password"] = password
        ip = _cell(row.get("static_ip"))
        if ip:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                errors.append(_("static IP %(ip)s is not an IPv4 address", ip=ip))
            else:
                owner = ctx["radius_ips"].get(ip)
                if owner and owner != mine:
                    errors.append(
                        _(
                            "static IP %(ip)s: subscription %(sub)s has it",
                            ip=ip,
                            sub=owner.account_number,
                        )
                    )
        values["static_ip"] = ip
        return values, errors

    @api.model
    def _prepare_file_checks(self, item, ctx):
        """Override of `isp_billing`: a username or a static IP twice in the
        file (every row that has it)."""
        super()._prepare_file_checks(item, ctx)
        _ = self.env._
        for key, message in (
            (
                "radius_username",
                lambda value, lines: _(
                    "duplicate username %(username)s (lines %(lines)s)",
                    username=value,
                    lines=lines,
                ),
            ),
            (
                "static_ip",
                lambda value, lines: _(
                    "static IP %(ip)s is on several lines (%(lines)s)",
                    ip=value,
                    lines=lines,
                ),
            ),
        ):
            value = item["values"].get(key)
            lines = ctx["file"][key].get(value) if value else None
            if lines and len(lines) > 1:
                item["errors"].append(
                    message(value, ", ".join(str(line) for line in lines))
                )

    @api.model
    def _prepare_subscription_vals(self, values, partner, company, pricelist=None):
        """Override of `isp_billing`: the username and password kept (else
        the defaults: the account number in lower case, a new password) and
        the static IP."""
        vals = super()._prepare_subscription_vals(
            values, partner, company, pricelist=pricelist
        )
        if values.get("radius_username"):
            vals["radius_username"] = values["radius_username"]
        if values.get("radius_password"):
            vals["radius_password"] = values["radius_password"]
        if values.get("static_ip"):
            vals["radius_static_ip"] = values["static_ip"]
        return vals


def _cell(value):
    return "" if value is None else str(value).strip()
