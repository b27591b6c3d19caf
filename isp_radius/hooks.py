# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Give the subscriptions that existed before this add-on their RADIUS
    credentials: the account number as username, a generated password."""
    Subscription = env["isp.subscription"].with_context(active_test=False)
    for sub in Subscription.search([("radius_username", "=", False)]):
        sub.write(
            {
                "radius_username": sub.account_number.lower(),
                "radius_password": sub.radius_password
                or Subscription._radius_new_password(),
            }
        )
