from . import portal
from . import payment
from . import portal_invoice
