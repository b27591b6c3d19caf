# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import res_company
from . import res_config_settings
from . import product_template
from . import isp_subscription
from . import isp_subscription_line
from . import sale_order
from . import sale_order_line
from . import project_task
from . import res_partner
from . import isp_coverage_mixin
from . import isp_coverage_area
from . import isp_coverage_rule
from . import crm_lead
