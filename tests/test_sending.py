"""Invoice sending on this machine's own wkhtmltopdf, against a running Odoo.

The billing job queues the invoices for Odoo's sending job (``account.move.send``);
here that job runs in this process while an Odoo serves the database over real
HTTP, so wkhtmltopdf fetches the report's stylesheets from a live server (an
in-Odoo test hangs there: its test server waits on the test itself). Each
invoice must get a real PDF, e-mailed with it, and the subscriber downloads the
same PDF from the portal. Not checked: the letterhead, missing on Debian's
unpatched-Qt build (see isp_billing/README.md, "Invoice PDFs and wkhtmltopdf").
"""

import shutil
import subprocess
from datetime import date

import pytest

START = date(2025, 3, 1)  # before the demo data: only our subscriptions are due
PRICE = 1500.0
N_SUBS = 3


def pdf_text(raw: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (tests/harness.py installs it)."""
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: install poppler-utils (tests/run does)")
    proc = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=raw,
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode()


@pytest.fixture()
def billed_moves(env_factory, odoo_http, request):
    """N_SUBS subscription invoices billed and queued for sending, committed,
    in the company's sending mode ``request.param`` (default ``pdf``)."""
    mode = getattr(request, "param", "pdf")
    env = env_factory()
    params = env["ir.config_parameter"]
    old_report_url = params.get_param("report.url")
    # wkhtmltopdf loads the report's assets from here: the running server.
    params.set_param("report.url", odoo_http)
    company = env.ref("base.main_company")
    old_send = company.isp_send_invoices, company.isp_invoice_sending
    company.isp_send_invoices = True
    company.isp_invoice_sending = mode
    plan = env["product.product"].create(
        {
            "name": "Sending plan",
            "type": "service",
            "list_price": PRICE,
            "taxes_id": [(6, 0, [])],
            "isp_is_plan": True,
        }
    )
    partners = env["res.partner"].create(
        [
            {"name": f"Sending subscriber {i}", "email": f"sub{i}@example.com"}
            for i in range(N_SUBS)
        ]
    )
    subs = env["isp.subscription"].create(
        [
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "date_start": START,
                "tz": "UTC",
                "line_ids": [(0, 0, {"product_id": plan.id})],
            }
            for partner in partners
        ]
    )
    subs.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(today=START)
    subs.invalidate_recordset()
    moves = subs.invoice_line_ids.move_id.sorted("id")
    env.cr.commit()
    yield env, moves
    # Leave nothing due behind for the other tests.
    subs.write({"billing_exception": True, "billing_exception_reason": "test data"})
    company.isp_send_invoices, company.isp_invoice_sending = old_send
    params.set_param("report.url", old_report_url or "")
    env.cr.commit()


def run_sending_job(env, moves):
    """Odoo's job sends a batch per run and triggers itself again for the rest
    (the demo data may have queued invoices before ours): run it as the cron
    runner would, until ours are done."""
    for _round in range(20):
        env["account.move"]._cron_account_move_send()
        env.cr.commit()
        moves.invalidate_recordset()
        if not any(moves.mapped("sending_data")):
            break


def customer_email(env, move):
    """The e-mail of ``move`` to its customer: (message, its mail.mail)."""
    message = move.message_ids.filtered(
        lambda m: m.message_type == "comment" and move.partner_id in m.partner_ids
    )
    assert len(message) == 1, f"{move.name}: {len(message)} e-mails"
    mails = env["mail.mail"].search([("mail_message_id", "=", message.id)])
    assert mails, f"{move.name}: no e-mail queued"
    return message, mails


def invoice_pdf_attachments(env, move):
    """The attachments kept as ``move``'s PDF (``invoice_pdf_report_file``)."""
    return (
        env["ir.attachment"]
        .sudo()
        .search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("res_field", "=", "invoice_pdf_report_file"),
            ]
        )
    )


def portal_pdf(base_url, move, token, **params):
    import requests  # noqa: PLC0415 - installed by tests/run

    return requests.get(
        f"{base_url}/my/invoices/{move.id}",
        params={"report_type": "pdf", "access_token": token, **params},
        timeout=120,
        allow_redirects=False,
    )


def test_invoices_sent_with_real_pdf_emailed_and_portal(billed_moves, odoo_http):
    import requests  # noqa: PLC0415 - installed by tests/run

    env, moves = billed_moves
    assert len(moves) == N_SUBS
    assert all(moves.mapped(lambda m: m.state == "posted"))
    # Amounts by hand: one monthly plan, no tax.
    assert moves.mapped("amount_total") == [PRICE] * N_SUBS
    assert all(moves.mapped("sending_data")), "not queued for Odoo's sending job"

    run_sending_job(env, moves)

    for move in moves:
        assert move.is_move_sent, move.name
        assert not move.sending_data, f"{move.name} left being sent"
        attachment = move.invoice_pdf_report_id
        assert attachment, f"{move.name} has no PDF"
        assert attachment.mimetype == "application/pdf"
        raw = attachment.raw
        assert raw.startswith(b"%PDF")
        assert b"/Type /Page" in raw or b"/Type/Page" in raw
        # The e-mail to the subscriber, queued with that PDF.
        message = move.message_ids.filtered(
            lambda m, move=move: (
                m.message_type == "comment" and move.partner_id in m.partner_ids
            )
        )
        assert len(message) == 1, f"{move.name}: {len(message)} e-mails"
        # Odoo e-mails a copy of the invoice's PDF attachment: the same file.
        assert attachment.checksum in message.attachment_ids.mapped("checksum")
        mails = env["mail.mail"].search([("mail_message_id", "=", message.id)])
        assert mails, f"{move.name}: no e-mail queued"
        assert mails.mapped("email_to") or mails.recipient_ids == move.partner_id

        # The subscriber's download from the portal (access token, real HTTP):
        # the same posted invoice, never a PROFORMA.
        move._portal_ensure_token()
        env.cr.commit()
        response = requests.get(
            f"{odoo_http}/my/invoices/{move.id}",
            params={
                "report_type": "pdf",
                "download": "true",
                "access_token": move.access_token,
            },
            timeout=120,
        )
        assert response.status_code == 200, response.text[:500]
        assert response.content.startswith(b"%PDF")
        # Posted and already rendered: the portal serves that same document.
        assert response.content == raw


@pytest.mark.parametrize("billed_moves", ["link"], indirect=True)
def test_link_mode_emails_the_link_and_makes_the_pdf_on_first_download(
    billed_moves, odoo_http
):
    """Portal link mode: the job e-mails each invoice with its portal link and
    no attachment, renders no PDF and leaves none "being sent"; the first
    download (real HTTP, access token) makes the one PDF, kept as the
    invoice's; the next download serves the same bytes; another invoice's
    token gets nothing and makes nothing."""
    env, moves = billed_moves
    assert len(moves) == N_SUBS
    assert all(m.sending_data.get("isp_link") for m in moves), "not queued as link"
    run_sending_job(env, moves)

    for move in moves:
        assert move.is_move_sent, move.name
        assert not move.sending_data, f"{move.name} left being sent"
        assert not move.invoice_pdf_report_id, f"{move.name}: PDF rendered by the job"
        assert not invoice_pdf_attachments(env, move)
        message, mails = customer_email(env, move)
        assert not message.attachment_ids, f"{move.name}: e-mailed with attachments"
        assert not mails.attachment_ids
        # The portal link with the invoice's access token, and the balance
        # (one invoice of 1,500.00, nothing else open: 1,500.00).
        assert move.access_token
        body = mails.body_html
        assert f"access_token={move.access_token}" in body, body
        assert "Balance due on your account" in body
        assert "1,500.00" in body

    first, second = moves[0], moves[1]
    # Another invoice's token: redirected away (Odoo's portal), no PDF made.
    response = portal_pdf(odoo_http, first, second.access_token, download="true")
    assert response.status_code in (303, 403, 404), response.status_code
    assert not response.content.startswith(b"%PDF")
    env.cr.rollback()
    first.invalidate_recordset()
    assert not invoice_pdf_attachments(env, first)
    assert not first.invoice_pdf_report_id

    # The first download makes the PDF and keeps it as the invoice's.
    response = portal_pdf(odoo_http, first, first.access_token, download="true")
    assert response.status_code == 200, response.text[:500]
    assert response.content.startswith(b"%PDF")
    env.cr.rollback()
    first.invalidate_recordset()
    kept = invoice_pdf_attachments(env, first)
    assert len(kept) == 1
    assert first.invoice_pdf_report_id == kept
    assert kept.raw == response.content
    # Posted, official: the invoice's number, not a PROFORMA.
    assert kept.name == first._get_invoice_report_filename()
    assert first.is_move_sent

    # The second download (viewed this time) serves the same file, makes none.
    again = portal_pdf(odoo_http, first, first.access_token)
    assert again.status_code == 200
    assert again.content == response.content
    env.cr.rollback()
    assert invoice_pdf_attachments(env, first) == kept

    # The other invoices were not rendered by that.
    for move in moves[1:]:
        assert not invoice_pdf_attachments(env, move)
