# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The migration import: customers and their subscriptions from another
billing system's export (a CSV or XLSX file), with a dry run that writes
nothing, an idempotent real run (the account number is the key) and a
reconciliation of what Odoo holds against the file's totals.

The service computes with ``_prepare_*`` functions that write nothing; only
:meth:`_import_prepared` writes, one savepoint per customer. The rules are in
the add-on's README (*Importing subscribers*)."""

import csv
import io
import logging
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from markupsafe import escape

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import email_normalize, format_date

_logger = logging.getLogger(__name__)

# The generic layout's columns, in the template's order (``isp_radius`` adds
# its own through :meth:`IspSubscriberImport._import_columns`).
GENERIC_COLUMNS = (
    "account_number",
    "customer_ref",
    "name",
    "phone",
    "email",
    "street",
    "city",
    "plan",
    "addons",
    "start_date",
    "billing_anchor",
    "billed_until",
    "state",
    "currency",
    "price",
    "opening_balance",
)
STATES = ("active", "suspended")
OPENING_JOURNAL_CODE = "OPBAL"
# Rows of the reconciliation read from the database together.
RECONCILIATION_CHUNK = 1000
# A quantity after the add-on's code or name: ``ROUTER*2``.
ADDON_RE = re.compile(r"^(?P<product>.+?)\s*\*\s*(?P<qty>\d+(?:\.\d+)?)$")


class IspSubscriberImport(models.AbstractModel):
    _name = "isp.subscriber.import"
    _description = "ISP subscriber import (service)"

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------

    @api.model
    def _check_import_access(self):
        """Only ISP managers import (checked before anything is read or
        written, and before any ``sudo``).

        :raise AccessError: for anyone else
        """
        if self.env.su:
            return
        if not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(
                self.env._(
                    "Only ISP managers may import subscribers (%(user)s).",
                    user=self.env.user.name,
                )
            )

    # ------------------------------------------------------------------
    # Columns and mappings (extension points)
    # ------------------------------------------------------------------

    @api.model
    def _import_columns(self):
        """The generic layout's columns, in order. Add-ons append theirs
        (``isp_radius``: the RADIUS username, password and static IP).

        :rtype: list[str]
        """
        return list(GENERIC_COLUMNS)

    @api.model
    def _prepare_template(self):
        """The generic layout as a CSV template: the header and one example
        row. Writes nothing.

        :rtype: bytes
        """
        self._check_import_access()
        columns = self._import_columns()
        example = {
            "account_number": "ACC100001",
            "customer_ref": "C-1001",
            "name": "Wanjiku Kamau",
            "phone": "0712 345 678",
            "email": "wanjiku@example.com",
            "street": "Moi Avenue 12",
            "city": "Nairobi",
            "plan": "HOME10",
            "addons": "ROUTER;STATICIP*1",
            "start_date": "2025-03-14",
            "billing_anchor": "2025-04-01",
            "billed_until": "2026-12-01",
            "state": "active",
            "currency": "KES",
            "price": "3799.00",
            "opening_balance": "1500.00",
        }
        example.update(self._template_example_extra())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerow([example.get(column, "") for column in columns])
        return out.getvalue().encode()

    @api.model
    def _template_example_extra(self):
        """Example values of the add-ons' columns in the template."""
        return {}

    @api.model
    def _map_row(self, mapping, source):
        """One row of the file in the generic layout.

        :param str mapping: ``generic``, ``phpnuxbill`` or ``splynx``
        :param dict source: the file's row, headers in lower case; for
            ``phpnuxbill`` a ``tbl_customers`` row with its active recharge
            under ``"recharge"``
        :return: generic column -> text (or date from an XLSX cell)
        :rtype: dict
        """
        if mapping == "phpnuxbill":
            customer, recharge = source, source.get("recharge") or {}
            state = (
                "suspended"
                if _text(customer.get("status")) in ("Banned", "Disabled")
                else "active"
            )
            # phpNuxBill's balance is the customer's prepaid deposit: money
            # the ISP owes, a credit here.
            return {
                "account_number": customer.get("username"),
                # The previous system's id, prefixed: the customer's
                # reference in Odoo.
                "customer_ref": f"phpnuxbill-{_text(customer.get('id'))}",
                "name": customer.get("fullname"),
                "phone": customer.get("phonenumber"),
                # "1" is tbl_customers' default e-mail: none given.
                "email": ""
                if _text(customer.get("email")) == "1"
                else customer.get("email"),
                "street": customer.get("address"),
                "plan": recharge.get("namebp"),
                "start_date": _text(customer.get("created_at"))[:10],
                "billing_anchor": recharge.get("expiration"),
                "billed_until": recharge.get("expiration"),
                "state": state,
                "opening_balance": _negate(customer.get("balance")),
            }
        if mapping == "splynx":
            status = _text(source.get("status")).lower()
            # Splynx's account balance is positive when the customer is in
            # credit.
            return {
                "account_number": source.get("login"),
                "customer_ref": f"splynx-{_text(source.get('id'))}",
                "name": source.get("name"),
                "phone": source.get("phone"),
                "email": source.get("email"),
                "street": source.get("street_1"),
                "city": source.get("city"),
                "plan": source.get("tariff_name"),
                "start_date": source.get("service_start_date")
                or source.get("date_add"),
                "billing_anchor": source.get("paid_until"),
                "billed_until": source.get("paid_until"),
                "state": {"active": "active", "blocked": "suspended"}.get(
                    status, status
                ),
                "price": source.get("service_price"),
                "opening_balance": _negate(source.get("account_balance")),
            }
        return {column: source.get(column) for column in self._import_columns()}

    # ------------------------------------------------------------------
    # Reading the file (writes nothing)
    # ------------------------------------------------------------------

    @api.model
    def _iter_table(self, content, filename):
        """The rows of a CSV (UTF-8, comma or semicolon) or XLSX file
        (first sheet), one at a time, as dicts keyed by the header in lower
        case, each with its line number under ``"_line"``. ``content`` is the
        file's bytes or its path: a CSV is decoded and parsed row by row
        (``csv.reader`` over a text stream), an XLSX read in openpyxl's
        read-only mode, so that no more than one row is held.

        :rtype: iterator[dict]
        :raise UserError: when the file cannot be read
        """
        if not content:
            raise UserError(self.env._("Choose a file to import."))
        name = (filename or "").lower()
        unreadable = self.env._("The file is not a UTF-8 CSV file or an XLSX file.")
        if isinstance(content, bytes | bytearray):
            binary = io.BytesIO(content)
        else:
            binary = open(content, "rb")  # noqa: SIM115 - closed below
        with binary:
            if name.endswith(".xlsx"):
                yield from self._iter_xlsx(binary, unreadable)
                return
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            try:
                first = text.readline()
                text.seek(0)
                delimiter = ";" if first.count(";") > first.count(",") else ","
                yield from self._rows_from(csv.reader(text, delimiter=delimiter))
            except UnicodeDecodeError as error:
                raise UserError(unreadable) from error
            finally:
                text.detach()

    @api.model
    def _read_table(self, content, filename):
        """:meth:`_iter_table` as a list."""
        return list(self._iter_table(content, filename))

    @api.model
    def _iter_xlsx(self, binary, unreadable):
        import openpyxl  # noqa: PLC0415 - Odoo's own requirement, read on use

        try:
            book = openpyxl.load_workbook(binary, read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file
            raise UserError(unreadable) from error
        try:
            yield from self._rows_from(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()

    @api.model
    def _rows_from(self, reader):
        header = None
        for line, cells in enumerate(reader, start=1):
            cells = ["" if cell is None else cell for cell in cells]
            if header is None:
                header = [str(cell).strip().lower() for cell in cells]
                continue
            if not any(_text(cell) for cell in cells):
                continue
            # Cells as they are (a password may end with a space); the
            # checks read them stripped.
            row = {key: cell for key, cell in zip(header, cells, strict=False) if key}
            row["_line"] = line
            yield row
        if header is None:
            raise UserError(self.env._("The file is empty."))

    @api.model
    def _iter_file(
        self, mapping, content, filename, recharges=None, recharges_name=None
    ):
        """The file's rows in the generic layout (:meth:`_map_row`), each
        with its line number, as an iterable that reads the file again each
        time it is iterated (one row held at a time). For phpNuxBill,
        ``content`` is the export of ``tbl_customers`` and ``recharges`` that
        of ``tbl_user_recharges``: each customer is imported with its active
        recharge (status ``on``, the latest expiration; one kept per
        customer); a customer without one is listed as a problem.

        :rtype: iterable[dict]
        """
        self._check_import_access()
        if not content:
            raise UserError(self.env._("Choose a file to import."))
        active = None
        if mapping == "phpnuxbill":
            if not recharges:
                raise UserError(
                    self.env._("phpNuxBill: add the export of tbl_user_recharges too.")
                )
            active = {}
            for recharge in self._iter_table(recharges, recharges_name):
                if _text(recharge.get("status")) != "on":
                    continue
                key = _text(recharge.get("customer_id"))
                if key not in active or _text(recharge.get("expiration")) > _text(
                    active[key].get("expiration")
                ):
                    active[key] = recharge
        return _Rows(self, mapping, content, filename, active)

    @api.model
    def _read_file(
        self, mapping, content, filename, recharges=None, recharges_name=None
    ):
        """:meth:`_iter_file` as a list.

        :rtype: list[dict]
        """
        return list(
            self._iter_file(
                mapping,
                content,
                filename,
                recharges=recharges,
                recharges_name=recharges_name,
            )
        )

    # ------------------------------------------------------------------
    # The dry run (writes nothing)
    # ------------------------------------------------------------------

    @api.model
    def _prepare_context(self, rows, company, pricelist=None):
        """What the row checks look up once per file, read in one pass over
        ``rows`` (:meth:`_collect_keys`: the file's keys, O(distinct keys)):
        the plans and products by code and name, the account numbers and
        customer references already in the database, and what the checks
        across rows need (``ctx["file"]``).

        :rtype: dict
        """
        keys = self._new_keys()
        for row in rows:
            self._collect_keys(row, keys)
        return self._prepare_context_keys(keys, company, pricelist=pricelist)

    @api.model
    def _new_keys(self):
        """The empty summary of a file's keys (:meth:`_collect_keys`)."""
        return {
            "numbers": {},
            "refs": set(),
            "groups": {},
        }

    @api.model
    def _collect_keys(self, row, keys):
        """Add a row of the file (generic layout, not checked) to the
        summary of its keys: the account numbers (with the first line of
        each), the customer references, and per customer (its ``group``) its
        row count, first line, rows without account number, currencies and
        opening balances. Add-ons extend it (``isp_radius``: the usernames
        and static IPs with their lines)."""
        line = row.get("_line")
        number = _text(row.get("account_number"))
        ref = _text(row.get("customer_ref"))
        if number:
            keys["numbers"].setdefault(number, line)
        if ref:
            keys["refs"].add(ref)
        group = keys["groups"].setdefault(
            ref or f"line:{line}",
            {
                "size": 0,
                "first": line,
                "no_number": 0,
                "currencies": set(),
                "balances": set(),
            },
        )
        group["size"] += 1
        if not number:
            group["no_number"] += 1
        group["currencies"].add(_text(row.get("currency")).upper())
        raw = _text(row.get("opening_balance"))
        if raw:
            try:
                group["balances"].add(Decimal(raw.replace(",", "")))
            except InvalidOperation:
                pass

    @api.model
    def _prepare_context_keys(self, keys, company, pricelist=None):
        """:meth:`_prepare_context` from the file's keys."""
        Product = self.env["product.product"].with_company(company)
        products = Product.search(
            [
                ("sale_ok", "=", True),
                *Product._check_company_domain(company),
            ]
        )
        by_key = defaultdict(lambda: Product)
        for product in products:
            kind = "plan" if product.isp_is_plan else "addon"
            if product.default_code:
                by_key[(kind, product.default_code.strip().lower())] |= product
            by_key[(kind, product.name.strip().lower())] |= product
        numbers = set(keys["numbers"])
        # Every company's (access checked by the caller): a number another
        # company has is a problem, not a database error at import.
        existing = {
            sub.account_number: sub
            for sub in self.env["isp.subscription"]
            .sudo()
            .search([("account_number", "in", list(numbers))])
        }
        refs = keys["refs"]
        partners = {}
        for partner in (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search(
                [
                    ("ref", "in", list(refs)),
                    ("company_id", "in", (company.id, False)),
                ]
            )
        ):
            partners.setdefault(partner.ref, partner)
        return {
            "company": company,
            "pricelist": pricelist or self.env["product.pricelist"],
            "products": by_key,
            "existing": existing,
            "partners": partners,
            "journal": company.isp_journal_id
            or self.env["account.journal"].search(
                [
                    *self.env["account.journal"]._check_company_domain(company),
                    ("type", "=", "sale"),
                ],
                limit=1,
            ),
            "today": fields.Date.context_today(self),
            "file": keys,
        }

    @api.model
    def _prepare_rows(self, rows, company, pricelist=None):
        """:meth:`_iter_prepared` as a list.

        :rtype: list[dict]
        """
        return list(self._iter_prepared(rows, company, pricelist=pricelist))

    @api.model
    def _iter_prepared(self, rows, company, pricelist=None):
        """Check every row and compute what importing it would create, one
        row at a time. Writes nothing. ``rows`` (a list, or
        :meth:`_iter_file`) is read twice: once for the file's keys
        (:meth:`_prepare_context`), then row by row.

        Each result has ``line``, ``values`` (parsed), ``errors`` (reasons),
        ``status`` (``new``, ``exists``: already imported, nothing changes,
        ``error``: nothing will be written), ``group`` (the customer: rows
        with the same customer reference are one customer) and
        ``group_size`` (its rows in the file).

        :rtype: iterator[dict]
        """
        self._check_import_access()
        ctx = self._prepare_context(rows, company, pricelist=pricelist)
        groups = ctx["file"]["groups"]
        for row in rows:
            values, errors = self._prepare_row(row, ctx)
            group = values.get("customer_ref") or f"line:{row.get('_line')}"
            item = {
                "line": row.get("_line"),
                "values": values,
                "errors": errors,
                "group": group,
                "group_size": groups[group]["size"] if group in groups else 1,
            }
            self._prepare_file_checks(item, ctx)
            if item["errors"]:
                item["status"] = "error"
            elif item["values"].get("_existing"):
                item["status"] = "exists"
            else:
                item["status"] = "new"
            yield item

    @api.model
    def _prepare_row(self, row, ctx):
        """Parse and check one row in the generic layout. Writes nothing.
        Add-ons extend it for their columns (call ``super()``, add to its
        values and errors).

        :return: ``(values, errors)``: the parsed values and the reasons the
            row cannot be imported (texts)
        :rtype: tuple(dict, list)
        """
        errors = []
        values = {
            "account_number": _text(row.get("account_number")),
            "customer_ref": _text(row.get("customer_ref")),
            "name": _text(row.get("name")),
            "street": _text(row.get("street")),
            "city": _text(row.get("city")),
        }
        if row.get("_no_recharge"):
            errors.append(
                self.env._("no active recharge (status on) for this customer")
            )
        self._prepare_row_key(row, values, errors, ctx)
        self._prepare_row_contact(row, values, errors, ctx)
        self._prepare_row_products(row, values, errors, ctx)
        self._prepare_row_dates(row, values, errors, ctx)
        self._prepare_row_money(row, values, errors, ctx)
        if "plan" in values and not errors:
            price = self._prepare_line_price(values["plan"], values, ctx)
            if price <= 0:
                errors.append(
                    self.env._(
                        "plan %(plan)s has no price", plan=values["plan"].display_name
                    )
                )
        return values, errors

    @api.model
    def _prepare_row_key(self, row, values, errors, ctx):
        """The row's key: its account number, else its customer reference;
        a key already in the database makes the row *already imported*."""
        number = values["account_number"]
        existing = ctx["existing"].get(number)
        if existing and existing.company_id != ctx["company"]:
            errors.append(
                self.env._(
                    "account number %(number)s belongs to another company",
                    number=number,
                )
            )
        elif existing:
            values["_existing"] = existing
        elif not number:
            partner = ctx["partners"].get(values["customer_ref"])
            if not values["customer_ref"]:
                errors.append(
                    self.env._(
                        "no account number and no customer reference: nothing to "
                        "key it by"
                    )
                )
            elif partner and partner.isp_subscription_ids:
                values["_existing"] = partner.isp_subscription_ids[:1]
        if not values["name"]:
            errors.append(self.env._("no name"))

    @api.model
    def _prepare_row_contact(self, row, values, errors, ctx):
        """The phone (the partners' own E.164 rule, read in the company's
        country) and the e-mail."""
        phone = _text(row.get("phone"))
        if phone:
            try:
                values["mobile"] = (
                    self.env["res.partner"]
                    ._isp_normalize_phones(
                        {"mobile": phone, "country_id": ctx["company"].country_id.id}
                    )
                    .get("mobile")
                )
            except ValidationError as error:
                errors.append(
                    self.env._(
                        "invalid phone %(phone)s: %(reason)s",
                        phone=phone,
                        reason=error.args[0],
                    )
                )
        email = _text(row.get("email"))
        if email:
            values["email"] = email_normalize(email)
            if not values["email"]:
                errors.append(self.env._("invalid e-mail %(email)s", email=email))

    @api.model
    def _find_product(self, kind, key, errors, ctx):
        """The plan or add-on (``kind``) whose internal reference or name is
        ``key`` (case aside), or None with the reason in ``errors``."""
        products = ctx["products"].get((kind, key.strip().lower()))
        if not products:
            errors.append(
                self.env._("unknown plan %(plan)s", plan=key)
                if kind == "plan"
                else self.env._("unknown add-on %(addon)s", addon=key)
            )
            return None
        if len(products) > 1:
            # The company's own products win over shared ones.
            products = (
                products.filtered(lambda p: p.company_id == ctx["company"]) or products
            )
        if len(products) > 1:
            errors.append(
                self.env._(
                    "%(product)s is ambiguous: give its internal reference",
                    product=key,
                )
            )
            return None
        return products

    @api.model
    def _prepare_row_products(self, row, values, errors, ctx):
        """The plan and the add-ons (``;``-separated, ``CODE*2`` for a
        quantity), by internal reference or name."""
        plan_key = _text(row.get("plan"))
        if not plan_key:
            errors.append(self.env._("no plan"))
        elif plan := self._find_product("plan", plan_key, errors, ctx):
            values["plan"] = plan
        values["addons"] = []
        for item in _text(row.get("addons")).split(";"):
            if not item.strip():
                continue
            match = ADDON_RE.match(item.strip())
            name, qty = (match["product"], float(match["qty"])) if match else (item, 1)
            product = self._find_product("addon", name, errors, ctx)
            if product and qty <= 0:
                errors.append(
                    self.env._(
                        "add-on %(addon)s: the quantity must be above zero", addon=name
                    )
                )
            elif product:
                values["addons"].append((product, float(qty)))

    @api.model
    def _prepare_row_dates(self, row, values, errors, ctx):
        """The start, the billing anchor (default: billed until, else the
        start) and billed until (excluded; default: the start)."""
        unreadable = False
        for column, key in (
            ("start_date", "date_start"),
            ("billing_anchor", "anchor"),
            ("billed_until", "billed_until"),
        ):
            raw = row.get(column)
            try:
                values[key] = _date(raw)
            except ValueError:
                unreadable = True
                errors.append(
                    self.env._(
                        "%(column)s %(value)s is not a date (YYYY-MM-DD)",
                        column=column,
                        value=raw,
                    )
                )
                values[key] = None
        start = values["date_start"]
        anchor, until = values["anchor"], values["billed_until"]
        if not start and not unreadable:
            errors.append(self.env._("no start date"))
        if start and anchor and anchor < start:
            errors.append(self.env._("billing anchor before the start date"))
        if start and until and until < start:
            errors.append(self.env._("billed until before the start date"))
        if anchor and until and anchor > until:
            errors.append(self.env._("billing anchor after billed until"))
        if start:
            values["anchor"] = anchor or until or start
            values["billed_until"] = until or start
        state = _text(row.get("state")).lower() or "active"
        if state not in STATES:
            errors.append(
                self.env._(
                    "state %(state)s: only active or suspended subscribers are "
                    "imported",
                    state=state,
                )
            )
        values["state"] = state

    @api.model
    def _prepare_row_money(self, row, values, errors, ctx):
        """The currency (default: the one the import bills in), the old
        system's price and the opening balance."""
        company = ctx["company"]
        code = _text(row.get("currency")).upper()
        billed_in = ctx["pricelist"].currency_id or company.currency_id
        currency = billed_in
        if code and code != billed_in.name:
            currency = self.env["res.currency"].search([("name", "=", code)], limit=1)
            if not currency:
                errors.append(
                    self.env._("unknown currency %(currency)s", currency=code)
                )
        values["currency"] = currency
        journal_currency = ctx["journal"].currency_id
        mismatch = None
        if currency and currency != billed_in:
            mismatch = billed_in
        elif (
            currency
            and journal_currency
            and currency not in (journal_currency, company.currency_id)
        ):
            mismatch = journal_currency
        if mismatch:
            errors.append(
                self.env._(
                    "currency mismatch: the file says %(currency)s, this import "
                    "bills in %(billed)s",
                    currency=currency.name,
                    billed=mismatch.name,
                )
            )
        for column in ("price", "opening_balance"):
            raw = _text(row.get(column))
            try:
                values[column] = Decimal(raw.replace(",", "")) if raw else None
            except InvalidOperation:
                errors.append(
                    self.env._(
                        "%(column)s %(value)s is not an amount",
                        column=column,
                        value=raw,
                    )
                )
                values[column] = None

    @api.model
    def _prepare_line_price(self, product, values, ctx):
        """The unit price of ``product`` for the row: the import's
        pricelist at the start date, else the product's sales price in the
        row's currency (as a subscription line prices it)."""
        date_start = values.get("date_start") or ctx["today"]
        if ctx["pricelist"]:
            return ctx["pricelist"]._get_product_price(
                product, 1.0, currency=values["currency"], date=date_start
            )
        return product.currency_id._convert(
            product.lst_price, values["currency"], ctx["company"], date_start
        )

    @api.model
    def _prepare_file_checks(self, item, ctx):
        """Checks of a row across the file, from the file's keys
        (``ctx["file"]``, :meth:`_collect_keys`): an account number twice in
        the file (the later rows), two rows of one customer without account
        numbers (all its rows but the first), one customer's rows in
        different currencies or with different opening balances (all its
        rows). Add-ons extend it (``isp_radius``: a username twice). Writes
        nothing."""
        _ = self.env._
        keys = ctx["file"]
        number = item["values"].get("account_number")
        first = keys["numbers"].get(number) if number else None
        if first is not None and first != item["line"]:
            item["errors"].append(
                _(
                    "account number %(number)s is also on line %(line)s",
                    number=number,
                    line=first,
                )
            )
        group = keys["groups"].get(item["group"])
        if not group or group["size"] < 2:
            return
        if group["no_number"] > 1 and item["line"] != group["first"]:
            item["errors"].append(
                _("several rows of one customer need their account numbers")
            )
        billed_in = ctx["pricelist"].currency_id or ctx["company"].currency_id
        if len({code or billed_in.name for code in group["currencies"]}) > 1:
            item["errors"].append(
                _("currency mismatch between the rows of one customer")
            )
        if len(group["balances"]) > 1:
            item["errors"].append(
                _("the rows of one customer give different opening balances")
            )

    # ------------------------------------------------------------------
    # Values of what is created (write nothing)
    # ------------------------------------------------------------------

    @api.model
    def _prepare_partner_vals(self, values, company):
        """The new customer of a row."""
        vals = {
            "name": values["name"],
            "ref": values.get("customer_ref") or False,
            "street": values.get("street") or False,
            "city": values.get("city") or False,
            "email": values.get("email") or False,
            "mobile": values.get("mobile") or False,
            "country_id": company.country_id.id,
            "tz": company.partner_id.tz or self.env.user.tz,
            "customer_rank": 1,
        }
        return vals

    @api.model
    def _prepare_subscription_vals(self, values, partner, company, pricelist=None):
        """The new subscription of a row (a draft; the import activates it).
        Add-ons extend it for their columns."""
        lines = [Command.create({"product_id": values["plan"].id})]
        for product, qty in values["addons"]:
            lines.append(Command.create({"product_id": product.id, "quantity": qty}))
        vals = {
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": values["currency"].id,
            "pricelist_id": pricelist.id if pricelist else False,
            "date_start": values["date_start"],
            "line_ids": lines,
        }
        if values.get("account_number"):
            vals["account_number"] = values["account_number"]
        return vals

    @api.model
    def _prepare_opening_move_vals(self, subscription, amount, date_ref, journal):
        """The opening document of a customer's balance from the previous
        system: an invoice of ``amount`` (owed), a credit note of its
        opposite (in credit), no document at zero. One untaxed line on the
        journal's account.

        :rtype: dict | None
        """
        currency = subscription.currency_id
        amount = float(amount)
        if currency.is_zero(amount):
            return None
        vals = subscription._prepare_invoice_vals(date_ref)
        vals.update(
            move_type="out_invoice" if amount > 0 else "out_refund",
            journal_id=journal.id,
            invoice_origin=self.env._(
                "%(number)s: opening balance", number=subscription.account_number
            ),
            invoice_line_ids=[
                Command.create(
                    {
                        "name": self.env._("Opening balance from the previous system"),
                        "quantity": 1.0,
                        "price_unit": abs(amount),
                        "account_id": journal.default_account_id.id,
                        "tax_ids": [Command.clear()],
                        "isp_subscription_id": subscription.id,
                    }
                )
            ],
        )
        return vals

    @api.model
    def _get_opening_journal(self, company, create=True):
        """The company's journal of opening balances (code ``OPBAL``, a
        sales journal whose account is *Opening balances from the previous
        system*, equity), created on first use."""
        Journal = self.env["account.journal"].sudo().with_company(company)
        journal = Journal.search(
            [("code", "=", OPENING_JOURNAL_CODE), ("company_id", "=", company.id)],
            limit=1,
        )
        if journal or not create:
            return journal
        Account = self.env["account.account"].sudo().with_company(company)
        code = next(
            str(number)
            for number in range(999900, 1000000)
            if not Account.search_count(
                [("code", "=", str(number)), *Account._check_company_domain(company)],
                limit=1,
            )
        )
        account = Account.create(
            {
                "name": self.env._("Opening balances from the previous system"),
                "code": code,
                "account_type": "equity",
                "company_ids": [Command.set(company.ids)],
            }
        )
        return Journal.create(
            {
                "name": self.env._("Opening balances"),
                "code": OPENING_JOURNAL_CODE,
                "type": "sale",
                "company_id": company.id,
                "default_account_id": account.id,
            }
        )

    # ------------------------------------------------------------------
    # The real run
    # ------------------------------------------------------------------

    @api.model
    def _import_prepared(
        self,
        prepared,
        company,
        date_ref=None,
        pricelist=None,
        batch_size=200,
        limit=None,
    ):
        """Import the ``new`` rows of :meth:`_prepare_rows` (a list) or
        :meth:`_iter_prepared` (a stream), ``batch_size`` customers at a time,
        at most ``limit`` customers in this call. Each batch is created
        set-based in one savepoint; when anything in it fails, the savepoint
        is rolled back and the batch is imported again customer by customer,
        each in a savepoint of its own, so that a failure leaves nothing of
        that customer and the others of the batch are imported. After each
        batch the ORM is flushed, its cache emptied and the progress logged;
        the progress is reported to the cron runner at the end. Rows in
        ``error`` or ``exists`` are left alone; the rows imported become
        ``created``.

        :return: ``{"created": [subscription ids], "lines": [their lines],
            "failed": {line: reason}, "remaining": customers left to import}``
        :rtype: dict
        """
        self._check_import_access()
        date_ref = date_ref or fields.Date.context_today(self)
        created, failed, lines = [], {}, []
        done = remaining = 0
        journal = self.env["account.journal"]
        batch = []

        def run(batch):
            nonlocal journal
            if not journal and any(
                i["values"].get("opening_balance") for items in batch for i in items
            ):
                journal = self._get_opening_journal(company)
            created.extend(
                self._import_batch(batch, company, date_ref, pricelist, journal, failed)
            )
            lines.extend(
                i["line"] for items in batch for i in items if i["status"] == "created"
            )
            self.env.flush_all()
            self.env.invalidate_all()
            _logger.info("Subscriber import: %s customers imported", done)

        for items in self._iter_customers(prepared):
            if limit and done >= limit:
                remaining += 1
                continue
            batch.append(items)
            done += 1
            if len(batch) >= batch_size:
                run(batch)
                batch = []
        if batch:
            run(batch)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return {
            "created": created,
            "lines": lines,
            "failed": failed,
            "remaining": remaining,
        }

    @api.model
    def _iter_customers(self, prepared):
        """The customers of ``prepared`` that have a ``new`` row, each as the
        list of its rows, once all of its rows are read (a customer's rows may
        be anywhere in the file: only the rows of customers not complete yet
        are held)."""
        sizes = None
        if isinstance(prepared, list):
            sizes = defaultdict(int)
            for item in prepared:
                sizes[item["group"]] += 1
        pending = defaultdict(list)
        for item in prepared:
            group = item["group"]
            pending[group].append(item)
            size = sizes[group] if sizes is not None else item.get("group_size", 1)
            if len(pending[group]) < size:
                continue
            items = pending.pop(group)
            if any(i["status"] == "new" for i in items):
                yield items
        for items in pending.values():  # a stream without its group sizes
            if any(i["status"] == "new" for i in items):
                yield items

    @api.model
    def _import_batch(self, customers, company, date_ref, pricelist, journal, failed):
        """Import ``customers`` (lists of rows) set-based in one savepoint;
        if that fails, customer by customer, each in its own savepoint (the
        failed ones' rows become ``error``, their reason in ``failed``).

        :return: the ids of the subscriptions created
        :rtype: list[int]
        """
        try:
            with self.env.cr.savepoint():
                subs = self._import_customers(
                    customers, company, date_ref, pricelist, journal
                )
        except Exception as error:  # noqa: BLE001 - retried customer by customer
            if len(customers) == 1:
                self._import_failed(customers[0], error, failed)
                return []
            _logger.info(
                "Subscriber import: a batch failed (%s), importing it customer "
                "by customer",
                error,
            )
            self.env.invalidate_all()
            created = []
            for items in customers:
                created += self._import_batch(
                    [items], company, date_ref, pricelist, journal, failed
                )
            return created
        for items in customers:
            for item in items:
                if item["status"] == "new":
                    item["status"] = "created"
        return subs.ids

    @api.model
    def _import_failed(self, items, error, failed):
        _logger.info("Subscriber import: a customer failed: %s", error)
        reason = str(error.args[0] if error.args else repr(error))
        for item in items:
            if item["status"] == "new":
                failed[item["line"]] = reason
                item["status"] = "error"
                item["errors"].append(reason)

    @api.model
    def _import_customers(self, customers, company, date_ref, pricelist, journal):
        """Create the new subscriptions of ``customers`` (each the list of a
        customer's rows; the customer too when it is new), active from their
        start date and billed until the file's date, then their opening
        documents: each model's records created with one ``create`` per
        batch, the opening documents posted together. Runs inside the
        caller's savepoint.

        :return: the subscriptions created, in the customers' order
        :rtype: isp.subscription
        """
        _ = self.env._
        Partner = self.env["res.partner"]
        refs = {items[0]["values"].get("customer_ref") for items in customers} - {
            "",
            None,
        }
        by_ref = {}
        if refs:
            for partner in Partner.with_context(active_test=False).search(
                [("ref", "in", list(refs)), ("company_id", "in", (company.id, False))]
            ):
                by_ref.setdefault(partner.ref, partner)
        partners = []
        new_partner_vals = []
        for items in customers:
            first = items[0]["values"]
            partner = by_ref.get(first.get("customer_ref")) or Partner
            existing = partner.isp_subscription_ids
            for item in items:
                existing |= item["values"].get("_existing") or existing.browse()
            if not partner:
                partner = existing.partner_id[:1]
            if not partner:
                new_partner_vals.append(self._prepare_partner_vals(first, company))
            partners.append(partner)
        # An ISP manager (checked) creates the customers of the import, even
        # without Odoo's *Contact Creation* right.
        new_partners = iter(
            Partner.sudo()
            .with_context(tracking_disable=True)
            .create(new_partner_vals)
            .sudo(False)
            if new_partner_vals
            else ()
        )
        partners = [partner or next(new_partners) for partner in partners]
        # The subscriptions, created as drafts, then activated as of their
        # start dates.
        sub_vals, owners, rows = [], [], []
        for index, (items, partner) in enumerate(zip(customers, partners, strict=True)):
            for item in items:
                if item["status"] != "new":
                    continue
                sub_vals.append(
                    self._prepare_subscription_vals(
                        item["values"], partner, company, pricelist
                    )
                )
                owners.append(index)
                rows.append(item["values"])
        Sub = self.env["isp.subscription"].with_context(
            tracking_disable=True, mail_create_nolog=True
        )
        subs = Sub.create(sub_vals)
        invoice_journal = subs[:1]._get_invoice_journal() if subs else False
        subs.with_context(
            isp_journal_by_company={company.id: invoice_journal.id}
            if invoice_journal
            else {}
        )._check_ready_to_bill()
        self._import_set_state(
            subs,
            "active",
            "new",
            _("Imported from the previous system"),
            [values["date_start"] for values in rows],
            extra=[
                {
                    "billing_anchor_date": values["anchor"],
                    "next_invoice_date": values["billed_until"],
                    "billed_until": values["billed_until"],
                }
                for values in rows
            ],
        )
        suspended = subs.browse(
            [
                sub.id
                for sub, values in zip(subs, rows, strict=True)
                if values["state"] == "suspended"
            ]
        )
        if suspended:
            self._import_set_state(
                suspended,
                "suspended",
                "suspension",
                _("Suspended in the previous system"),
                [date_ref] * len(suspended),
                extra=[{"suspension_kind": "manual"}] * len(suspended),
            )
        # One opening document per customer, with its first subscription;
        # none for a customer that already has one (one query per batch).
        first_sub = {}
        for sub, owner in zip(subs, owners, strict=True):
            first_sub.setdefault(owner, sub)
        with_opening = self._partners_with_opening(Partner.union(*partners), company)
        move_vals = []
        for index, items in enumerate(customers):
            balance = next(
                (
                    i["values"]["opening_balance"]
                    for i in items
                    if i["values"].get("opening_balance") is not None
                ),
                None,
            )
            partner = partners[index]
            if not balance or index not in first_sub or partner.id in with_opening:
                continue
            vals = self._prepare_opening_move_vals(
                first_sub[index], balance, date_ref, journal
            )
            if vals:
                move_vals.append(vals)
                with_opening.add(partner.id)
        if move_vals:
            moves = (
                self.env["account.move"]
                .with_company(company)
                .with_context(tracking_disable=True)
                .create(move_vals)
            )
            moves.action_post()
        return subs

    @api.model
    def _import_set_state(self, subs, state, event_type, reason, days, extra=None):
        """What :meth:`isp.subscription._set_state` does, set-based for the
        import: the state (and ``extra`` values, per subscription) written,
        one write per distinct set of values; an event each (one create); the
        chatter note each (one batch); then the ``_isp_state_changed`` hook
        once."""
        old_states = {sub.id: sub.state for sub in subs}
        labels = dict(subs._fields["state"]._description_selection(self.env))
        by_vals = defaultdict(list)
        for index, sub in enumerate(subs):
            vals = {"state": state, "state_reason": reason, "state_date": days[index]}
            if extra:
                vals.update(extra[index])
            by_vals[tuple(sorted(vals.items()))].append(sub.id)
        Sub = subs.with_context(isp_billing_engine=True)
        for vals, ids in by_vals.items():
            Sub.browse(ids).write(dict(vals))
        self.env["isp.subscription.event"].sudo().create(
            [
                {
                    "subscription_id": sub.id,
                    "event_type": event_type,
                    "reason": reason,
                    "event_date": days[index],
                    "old_plan_id": False,
                    "new_plan_id": sub.plan_id.id,
                    "recurring_monthly": sub.recurring_monthly,
                }
                for index, sub in enumerate(subs)
            ]
        )
        # One note per distinct day (an import's rows share a few dates).
        notes = {}
        for day in set(days):
            notes[day] = escape(
                self.env._(
                    "%(state)s on %(date)s: %(reason)s",
                    state=labels[state],
                    date=format_date(self.env, day),
                    reason=reason,
                )
            )
        subs._message_log_batch(
            bodies={sub.id: notes[days[index]] for index, sub in enumerate(subs)},
        )
        subs._isp_state_changed(old_states, reason)

    @api.model
    def _partners_with_opening(self, partners, company):
        """The ids of ``partners`` that have a posted opening document in
        ``company`` (theirs or one of their contacts'), in one query.

        :rtype: set[int]
        """
        ids = set(partners.ids)
        found = set()
        for move in self._opening_moves(partners, company):
            found |= _ancestor_ids(move.partner_id) & ids
        return found

    @api.model
    def _opening_moves(self, partners, company):
        """The posted opening documents of ``partners`` in ``company``."""
        journal = self._get_opening_journal(company, create=False)
        if not journal:
            return self.env["account.move"]
        return self.env["account.move"].search(
            [
                ("journal_id", "=", journal.id),
                ("partner_id", "child_of", partners.ids),
                ("state", "=", "posted"),
            ]
        )

    # ------------------------------------------------------------------
    # Reconciliation (writes nothing)
    # ------------------------------------------------------------------

    @api.model
    def _prepare_reconciliation(self, prepared, company):
        """What Odoo holds against the file's totals, for the ISP to sign the
        migration off. Per currency (code):

        - ``rows``, ``problems``: the file's rows, those with a problem;
        - ``subscribers_file``: rows without a problem; ``subscribers_odoo``:
          those of them whose subscription is in Odoo;
        - ``price_file``: the file's ``price`` total (one period, untaxed) of
          those rows; ``price_odoo``: the recurring amount of their
          subscriptions in Odoo (the rows with a price only); ``mrr_odoo``:
          the monthly recurring amount of all of them;
        - ``balance_file``: the opening balances (once per customer);
          ``balance_odoo``: the customers' opening documents in Odoo
          (invoices minus credit notes);
        - ``differences``: ``(line, account number, file price, Odoo
          amount)`` of every row whose price differs.

        :rtype: dict
        """
        self._check_import_access()
        totals = {}
        groups_seen = set()
        chunk = []
        for item in prepared:
            chunk.append(item)
            if len(chunk) >= RECONCILIATION_CHUNK:
                self._reconcile_chunk(chunk, company, totals, groups_seen)
                chunk = []
        if chunk:
            self._reconcile_chunk(chunk, company, totals, groups_seen)
        for currency, figures in totals.items():
            for key in (
                "price_file",
                "price_odoo",
                "mrr_odoo",
                "balance_file",
                "balance_odoo",
            ):
                figures[key] = currency.round(figures[key])
        return {currency.name: figures for currency, figures in totals.items()}

    @api.model
    def _reconcile_chunk(self, chunk, company, totals, groups_seen):
        """Add ``chunk`` (rows of :meth:`_prepare_rows`) to the
        reconciliation's ``totals``: the subscriptions, customers and opening
        documents of the chunk read with one query each."""
        Sub = self.env["isp.subscription"]
        numbers = [
            i["values"]["account_number"]
            for i in chunk
            if i["values"].get("account_number")
        ]
        by_number = {
            sub.account_number: sub
            for sub in Sub.search(
                [("account_number", "in", numbers), ("company_id", "=", company.id)]
            )
        }
        refs = {i["values"]["customer_ref"] for i in chunk} - {"", None}
        partners = {}
        for partner in (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search(
                [("ref", "in", list(refs)), ("company_id", "in", (company.id, False))]
            )
        ):
            partners[partner.ref] = partner
        owners = []
        for item in chunk:
            values = item["values"]
            figures = totals.setdefault(
                values.get("currency") or company.currency_id,
                {
                    "rows": 0,
                    "problems": 0,
                    "subscribers_file": 0,
                    "subscribers_odoo": 0,
                    "price_file": 0.0,
                    "price_odoo": 0.0,
                    "mrr_odoo": 0.0,
                    "balance_file": 0.0,
                    "balance_odoo": 0.0,
                    "differences": [],
                },
            )
            currency = values.get("currency") or company.currency_id
            figures["rows"] += 1
            if item["status"] == "error":
                figures["problems"] += 1
                continue
            figures["subscribers_file"] += 1
            sub = by_number.get(values.get("account_number"))
            partner = partners.get(values.get("customer_ref"))
            if not sub and not values.get("account_number") and partner:
                sub = partner.isp_subscription_ids[:1]
            if sub:
                figures["subscribers_odoo"] += 1
                figures["mrr_odoo"] += sub.recurring_monthly
            if values.get("price") is not None:
                price = float(values["price"])
                odoo = sub.recurring_total if sub else 0.0
                figures["price_file"] += price
                figures["price_odoo"] += odoo
                if currency.compare_amounts(price, odoo):
                    figures["differences"].append(
                        (item["line"], values.get("account_number"), price, odoo)
                    )
            if item["group"] in groups_seen:
                continue
            groups_seen.add(item["group"])
            if values.get("opening_balance") is not None:
                figures["balance_file"] += float(values["opening_balance"])
            owner = partner or (sub.partner_id if sub else None)
            if owner:
                owners.append((owner, figures))
        if not owners:
            return
        # The opening documents of the chunk's customers (theirs or their
        # contacts'), in one query.
        moves_of = defaultdict(list)
        all_owners = self.env["res.partner"].union(*(o for o, __ in owners))
        for move in self._opening_moves(all_owners, company):
            for pid in _ancestor_ids(move.partner_id) & set(all_owners.ids):
                moves_of[pid].append(move)
        for owner, figures in owners:
            for move in moves_of.get(owner.id, ()):
                sign = 1 if move.move_type == "out_invoice" else -1
                figures["balance_odoo"] += sign * move.amount_total


def _ancestor_ids(partner):
    """The ids of ``partner`` and of its parents (``child_of`` read
    backwards)."""
    ids = set()
    while partner and partner.id not in ids:
        ids.add(partner.id)
        partner = partner.parent_id
    return ids


def _text(value):
    """A cell as stripped text ('' for empty; a date as YYYY-MM-DD; a whole
    number without its decimal point)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value):
    """A cell as a date (None when empty).

    :raise ValueError: when it is not a YYYY-MM-DD date
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)[:10]
    return date.fromisoformat(text) if text else None


def _negate(value):
    """The opposite of an amount cell ('' stays '')."""
    text = _text(value)
    if not text:
        return ""
    return text[1:] if text.startswith("-") else f"-{text}"


class _Rows:
    """The rows of an import file in the generic layout, read anew (and
    streamed) each time they are iterated: the checks read the file twice,
    once for its keys, once row by row."""

    def __init__(self, service, mapping, content, filename, active):
        self.service = service
        self.mapping = mapping
        self.content = content
        self.filename = filename
        self.active = active

    def __iter__(self):
        service, mapping = self.service, self.mapping
        for row in service._iter_table(self.content, self.filename):
            if mapping == "phpnuxbill":
                row["recharge"] = self.active.get(_text(row.get("id")))
            generic = service._map_row(mapping, row)
            generic["_line"] = row["_line"]
            if mapping == "phpnuxbill" and not row.get("recharge"):
                generic["_no_recharge"] = True
            yield generic
