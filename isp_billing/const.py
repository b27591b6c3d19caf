# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Constants shared by the billing engine, the dunning run and the add-ons."""

from psycopg2 import errors as pg_errors

# Errors that mean "another transaction works on the same rows right now":
# the run stops without flagging anyone and the next run picks up what is left.
# A unique-key refusal is not one of them: under the row lock the engine holds,
# it means the data is wrong (see README, billing rule 7).
CONCURRENCY_ERRORS = (pg_errors.SerializationFailure, pg_errors.LockNotAvailable)

# Months in one unit of billing period, to turn any period into a monthly amount
# (MRR) as Odoo's subscriptions do: a month is 30.437 days, so daily x 30.437,
# weekly x 30.437 / 7, yearly / 12 (README, "Analytics definitions").
DAYS_PER_MONTH = 30.437
MONTHS_PER_UNIT = {
    "day": 1 / DAYS_PER_MONTH,
    "week": 7 / DAYS_PER_MONTH,
    "month": 1,
    "year": 12,
}

# A customer invoice that is posted and not (fully) paid.
UNPAID_INVOICE_DOMAIN = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
]

# Who may see a customer's balance and open its journal items (the *Balance*
# buttons): Odoo's Invoicing role (ISP / User implies it), which also reads
# subscriptions.
OPEN_ITEMS_GROUPS = ("account.group_account_invoice",)
