from . import test_proration
from . import test_billing_engine
from . import test_bad_input
from . import test_lifecycle_access
from . import test_sending
from . import test_dunning
from . import test_autopay
from . import test_sms_gateway
