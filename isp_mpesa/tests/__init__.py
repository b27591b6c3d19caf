from . import test_c2b
from . import test_portal
from . import test_stk
from . import test_security
from . import test_subscription_buttons
from . import test_subscriber_texts
from . import test_dashboard
from . import test_spelling
