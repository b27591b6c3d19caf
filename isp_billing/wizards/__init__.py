from . import isp_billing_wizard
from . import isp_billing_wizard_line
from . import isp_subscription_change_plan
from . import isp_subscription_state
from . import isp_report_aging_wizard
from . import isp_subscriber_import_wizard
