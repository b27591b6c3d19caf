from . import controllers
from . import models
from . import report
from . import tools
from . import wizards


def pre_init_hook(env):
    """The invoices that exist get their settlement date in one SQL
    statement rather than one by one by the ORM (README, *Collections and
    aging definitions*)."""
    tools.settlement.create_date_paid_column(env.cr)


def post_init_hook(env):
    """Existing companies hash their subscription invoices from the install
    on (README, *Invoices that cannot be altered unseen*)."""
    env["res.company"].search([])._isp_secure_invoice_journal()
