# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Names shared with FreeRADIUS's standard SQL schema and dictionaries."""

# radusergroup group of suspended subscribers (both policies).
SUSPENDED_GROUP = "isp_suspended"
# radusergroup group of subscribers slowed down for non-payment (dunning).
THROTTLED_GROUP = "isp_throttled"
# Prefix of the radusergroup groups of plans: "isp_plan_<product template id>".
PLAN_GROUP_PREFIX = "isp_plan_"

# A NAS without Acct-Input-Gigawords wraps its 32-bit octet counters here.
COUNTER_WRAP = 2**32

# CoA / Disconnect (RFC 5176) Error-Cause values worth a word on the chatter.
ERROR_CAUSES = {
    401: "Unsupported Attribute",
    402: "Missing Attribute",
    403: "NAS Identification Mismatch",
    404: "Invalid Request",
    405: "Unsupported Service",
    406: "Unsupported Extension",
    407: "Invalid Attribute Value",
    501: "Administratively Prohibited",
    502: "Request Not Routable (Proxy)",
    503: "Session Context Not Found",
    504: "Session Context Not Removable",
    505: "Other Proxy Processing Error",
    506: "Resources Unavailable",
    507: "Request Initiated",
    508: "Multiple Session Selection Unsupported",
}
