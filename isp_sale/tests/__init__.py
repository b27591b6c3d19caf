# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import test_sale_onboarding
from . import test_sale_rights
from . import test_sale_coverage
from . import test_sale_tour
