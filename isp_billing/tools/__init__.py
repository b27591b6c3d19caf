# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import africastalking_api
from . import wkhtmltopdf
from . import shipped_templates
from . import settlement
