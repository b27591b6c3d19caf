# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo import http
from odoo.http import request


class BenchFloor(http.Controller):
    """What any Odoo route costs: routing, a database cursor, the JSON body
    parsed and a JSON answer; the same route options as isp_mpesa's callbacks."""

    @http.route(
        "/isp_bench/floor/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def floor(self, token, **kwargs):
        json.loads(request.httprequest.get_data())
        return request.make_json_response({"ResultCode": 0, "ResultDesc": "Accepted"})
