from . import test_provisioning
from . import test_accounting
from . import test_coa
