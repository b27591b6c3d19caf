from . import test_payment_risk
from . import test_payment_risk_ladder
from . import test_payment_risk_resume
from . import test_payment_risk_rights
from . import test_translations
