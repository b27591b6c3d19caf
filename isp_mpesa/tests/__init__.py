from . import test_c2b
from . import test_portal
from . import test_stk
from . import test_security
