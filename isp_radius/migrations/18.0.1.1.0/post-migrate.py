# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""isp.radius.usage and isp.radius.session lost their create/write audit
columns (``_log_access = False``) and their company_id (and usage username)
indexes. Odoo keeps the columns of removed magic fields; drop them, with
their foreign keys, so that the import's inserts do not check them."""

TABLES = ("isp_radius_usage", "isp_radius_session")
COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")
INDEXES = (
    "isp_radius_usage__company_id_index",
    "isp_radius_usage__username_index",
    "isp_radius_session__company_id_index",
)


def migrate(cr, version):
    for table in TABLES:
        # Table and column names are the constants above.
        drops = ", ".join(f"DROP COLUMN IF EXISTS {column}" for column in COLUMNS)
        cr.execute(f"ALTER TABLE {table} {drops}")  # noqa: S608
    for index in INDEXES:
        cr.execute(f"DROP INDEX IF EXISTS {index}")
