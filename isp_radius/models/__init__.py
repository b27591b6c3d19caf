from . import isp_radius
from . import res_company
from . import res_config_settings
from . import isp_radius_nas
from . import product_template
from . import isp_subscription
from . import isp_radius_usage
from . import isp_radius_session
