# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io

import numpy as np

from odoo import api, fields, models

# the arrays of a part, in the order of ``isp.payment.risk.service._rows``
ARRAYS = ("X", "y", "days", "dates", "groups")


class IspPaymentRiskModelPart(models.Model):
    """The training rows read by one step of a training in progress (the
    features, labels, days to pay, issue dates and subscriptions of a run of
    subscriptions), kept until the training ends so that a training
    resumes where it stopped. Read and written by the training job only
    (no access for anyone else: they hold every invoice's features)."""

    _name = "isp.payment.risk.model.part"
    _description = "Payment-risk training rows (in progress)"
    _order = "model_id, sequence"

    model_id = fields.Many2one(
        "isp.payment.risk.model",
        string="Model version",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer(required=True)
    row_count = fields.Integer(string="Rows")
    data = fields.Binary(string="Rows (packed)", attachment=False)

    _sql_constraints = [
        (
            "model_sequence_unique",
            "unique(model_id, sequence)",
            "A part is read once per training.",
        )
    ]

    @api.model
    def _pack(self, arrays):
        buffer = io.BytesIO()
        np.savez(buffer, **dict(zip(ARRAYS, arrays, strict=True)))
        return buffer.getvalue()

    @api.model
    def _unpack(self, blob):
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return tuple(data[name] for name in ARRAYS)
