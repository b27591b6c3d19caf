# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "ISP bench: floor route",
    "summary": "Benchmark only (tests/bench/mpesa_bench.py): a public POST route "
    "that parses the JSON body and answers, the floor of Odoo's HTTP cost",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "author": "ISP Billing Suite contributors",
    "license": "LGPL-3",
    "depends": ["web"],
    "data": [],
    "installable": True,
}
