#!/usr/bin/env python3
"""Odoo's command line, as Odoo's own ``odoo-bin``, for the servers the tests
and the benchmarks start.

A script file, not ``python3 -m odoo``: in prefork mode (``--workers``) Odoo
starts its websocket process by running ``sys.argv[0] gevent`` again, which
fails at once when ``sys.argv[0]`` is ``odoo/__main__.py``, and Odoo then
restarts it several times a second, eating CPU the measured server needs."""

import os

os.environ["TZ"] = "UTC"  # as odoo-bin: the server's time zone is UTC

import odoo  # noqa: E402

if __name__ == "__main__":
    odoo.cli.main()
