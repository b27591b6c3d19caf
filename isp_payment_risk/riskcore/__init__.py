# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-risk model without Odoo: features over plain records and the
learning over matrices, shared by the add-on, the simulator's evaluation
and the benchmark."""
