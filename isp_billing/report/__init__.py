from . import isp_report_aging
from . import isp_report_aging_line
from . import isp_report_aging_pdf
from . import isp_report_collections
from . import isp_report_collections_invoice
from . import isp_report_collections_payment
from . import isp_report_mrr
from . import isp_report_subscriber
