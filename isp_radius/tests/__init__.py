from . import test_provisioning
from . import test_accounting
from . import test_coa
from . import test_outbox
from . import test_limits
from . import test_neutralize
from . import test_rights
from . import test_portal_topup
