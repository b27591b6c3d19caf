from . import test_c2b
from . import test_stk
