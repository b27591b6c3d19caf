"""A Kenyan company billing in KES with an M-PESA provider, for the top-level
tests that talk to Odoo over HTTP (concurrency, fuzzing)."""


def create_mpesa_shop(env, name, keys, daraja_url, callback_url):
    """Create the company (generic chart, no invoice e-mails) and its M-PESA
    provider in test mode, with the bank journal as the provider's journal.

    :param keys: ``consumer_key``, ``consumer_secret``, ``shortcode``, ``passkey``
    :return: ``(company, provider)``, not committed
    """
    kes = env.ref("base.KES")
    kes.active = True
    # No country: a company created with one makes Odoo install its
    # localization (l10n_ke) and reload its chart at commit, which deletes
    # the journals loaded here with the provider's payment method line.
    company = env["res.company"].create({"name": name, "currency_id": kes.id})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    company.write({"isp_send_invoices": False})
    bank = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    method = env.ref("payment.payment_method_mpesa")
    provider = env["payment.provider"].create(
        {
            "name": name,
            "code": "mpesa",
            "state": "test",
            "company_id": company.id,
            **{f"mpesa_{key}": value for key, value in keys.items()},
            "mpesa_base_url": daraja_url,
            "mpesa_callback_base_url": callback_url,
            "payment_method_ids": [(6, 0, method.ids)],
        }
    )
    provider.journal_id = bank
    method.active = True  # once a provider supports it
    env.flush_all()
    assert bank.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_provider_id == provider
    )
    return company, provider
