from . import payment_provider
from . import payment_transaction
from . import isp_mpesa_payment
from . import isp_mpesa_callback
from . import account_move
from . import isp_subscription
from . import isp_subscription_paybill
from . import isp_dashboard
