# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError


class IspPaymentRiskModel(models.Model):
    """One training of a company's payment-risk model: its version, data
    window, evaluation figures and the stored scorer (an attachment), or why
    it was not trained. Written only by the training job."""

    _name = "isp.payment.risk.model"
    _description = "Payment-risk model"
    _order = "company_id, version desc"
    _rec_name = "version"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    version = fields.Integer(required=True, readonly=True)
    state = fields.Selection(
        [
            ("training", "In training"),
            ("ready", "In use"),
            ("replaced", "Replaced"),
            ("refused", "Not trained"),
        ],
        required=True,
        readonly=True,
    )
    kind = fields.Selection(
        [
            ("model", "Model (gradient boosting)"),
            ("baseline_rate", "Customer's historical late rate (baseline)"),
        ],
        string="Score used",
        readonly=True,
        help="The model is used only when it beat the better baseline on the "
        "hold-out months; otherwise the customer's historical late rate is.",
    )
    train_date = fields.Datetime(string="Trained on", readonly=True)
    as_of = fields.Date(string="History as of", readonly=True)
    date_from = fields.Date(string="First invoice date", readonly=True)
    date_to = fields.Date(string="Last invoice date", readonly=True)
    grace_days = fields.Integer(string="Grace days", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    holdout_count = fields.Integer(string="Hold-out invoices", readonly=True)
    late_share = fields.Float(string="Late share", readonly=True)
    pr_auc = fields.Float(string="PR-AUC", digits=(4, 3), readonly=True)
    pr_auc_low = fields.Float(string="PR-AUC low", digits=(4, 3), readonly=True)
    pr_auc_high = fields.Float(string="PR-AUC high", digits=(4, 3), readonly=True)
    roc_auc = fields.Float(string="ROC-AUC", digits=(4, 3), readonly=True)
    brier = fields.Float(string="Brier score", digits=(4, 3), readonly=True)
    calibration_error = fields.Float(
        string="Calibration error", digits=(4, 3), readonly=True
    )
    top10 = fields.Float(
        string="Late invoices in the top 10 %", digits=(4, 3), readonly=True
    )
    baseline = fields.Selection(
        [
            ("previous_late", "Paid the previous invoice late"),
            ("late_rate", "Customer's historical late rate"),
        ],
        string="Better baseline",
        readonly=True,
    )
    baseline_pr_auc = fields.Float(
        string="Baseline PR-AUC", digits=(4, 3), readonly=True
    )
    baseline_pr_auc_low = fields.Float(
        string="Baseline PR-AUC low", digits=(4, 3), readonly=True
    )
    baseline_pr_auc_high = fields.Float(
        string="Baseline PR-AUC high", digits=(4, 3), readonly=True
    )
    report = fields.Json(readonly=True)
    refusal_data = fields.Json(readonly=True)
    refusal = fields.Char(string="Why not trained", compute="_compute_refusal")
    # The fitted score: a pickle, for administrators only (it is loaded by
    # the scoring job, never by anyone's browser).
    scorer_file = fields.Binary(
        string="Fitted score",
        attachment=True,
        readonly=True,
        groups="base.group_system",
    )
    attachment_id = fields.Many2one(
        "ir.attachment", readonly=True, groups="base.group_system"
    )
    checksum = fields.Char(readonly=True)
    # A training in progress (state "training"), resumed by the training job
    # where it stopped: the phase, the last subscription read (keyset) and
    # the rows read so far (parts, deleted when the training ends).
    phase = fields.Selection(
        [
            ("extract", "Reading the history"),
            ("evaluate", "Evaluating"),
            ("fit", "Fitting"),
        ],
        string="Training phase",
        readonly=True,
    )
    resume_after = fields.Integer(string="Last subscription read", readonly=True)
    subscriptions_read = fields.Integer(string="Subscriptions read", readonly=True)
    part_ids = fields.One2many(
        "isp.payment.risk.model.part",
        "model_id",
        string="Rows read",
        groups="base.group_system",
    )

    _sql_constraints = [
        (
            "company_version_unique",
            "unique(company_id, version)",
            "A version is trained once per company.",
        )
    ]

    @api.depends("refusal_data")
    def _compute_refusal(self):
        for model in self:
            model.refusal = model._refusal_text()

    def _refusal_text(self):
        """Why there is no score, in the user's language ('' when scored)."""
        _ = self.env._
        if not self:
            return _(
                "No score: no payment-risk model has been trained yet (job "
                "“ISP: train the payment-risk model”)."
            )
        data = self.refusal_data or {}
        code = data.get("code")
        if code == "invoices":
            return _(
                "No score: the history has %(count)s settled invoices, "
                "%(needed)s are needed.",
                count=data["count"],
                needed=data["needed"],
            )
        if code == "months":
            return _(
                "No score: the history covers %(months)s months, %(needed)s are "
                "needed.",
                months=data["months"],
                needed=data["needed"],
            )
        if code == "late":
            return _(
                "No score: the history has %(count)s invoices paid late, "
                "%(needed)s are needed.",
                count=data["count"],
                needed=data["needed"],
            )
        if code == "on_time":
            return _(
                "No score: the history has %(count)s invoices paid in time, "
                "%(needed)s are needed.",
                count=data["count"],
                needed=data["needed"],
            )
        return ""

    @api.model
    def _current(self, company):
        """The company's latest training (in use, or refused): empty when it
        never trained. A training in progress is not one yet."""
        return self.search(
            [("company_id", "=", company.id), ("state", "!=", "training")],
            order="version desc",
            limit=1,
        )

    @api.model
    def _in_training(self, company):
        """The company's training in progress, if any."""
        return self.search(
            [("company_id", "=", company.id), ("state", "=", "training")],
            order="version desc",
            limit=1,
        )

    @api.model
    def _reason_text(self, group, params):
        """One reason of a prediction in plain words."""
        _ = self.env._
        texts = {
            "late_history": lambda p: _(
                "paid %(late)s of the last %(count)s invoices late", **p
            ),
            "open_overdue": lambda p: _(
                "%(count)s earlier invoices unpaid past their due date", **p
            ),
            "salary_day": lambda p: _(
                "due on day %(day)s of the month, while the customer usually "
                "pays between the 25th and the 5th",
                **p,
            ),
            "season": lambda p: _(
                "the invoice due in the same month last year was paid late"
            ),
            "autopay_failed": lambda p: _(
                "auto-pay failed %(count)s times in the 90 days before the "
                "invoice (%(recent)s in the last 30)",
                **p,
            ),
            "promise_broken": lambda p: _(
                "broke %(count)s promises to pay in the last 6 months", **p
            ),
            "upgrade": lambda p: _(
                "plan upgraded %(days)s days before the invoice", **p
            ),
            "new_customer": lambda p: _("customer for %(days)s days only", **p),
            "overdue": lambda p: _("already unpaid past its due date and grace days"),
        }
        text = texts.get(group)
        return text(params) if text else ""

    @api.model
    def _reasons_text(self, state, data, model):
        """The *Why* of a score: one reason a line, or why there is none."""
        if state == "scored":
            lines = [self._reason_text(g, p) for g, p in (data or [])]
            lines = [line for line in lines if line]
            return "\n".join(lines) or self.env._("No risk factor stands out.")
        if state == "none":
            return model.sudo()._refusal_text()
        return ""

    # === actions (managers) === #

    def _check_manager(self):
        if not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(
                self.env._("Only ISP managers can train or score the payment risk.")
            )

    @api.model
    def action_train_now(self):
        """Train the current company's model now (or finish the training the
        job has in progress), then score with it."""
        self._check_manager()
        company = self.env.company
        today = fields.Date.context_today(self)
        service = self.env["isp.payment.risk.service"].sudo().with_company(company)
        # a training the job has in progress is finished here, not doubled
        model = self.sudo()._in_training(company) or service._train_start(
            company, today
        )
        while model.state == "training":
            service._train_step(model)
        service._score(company, today)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": model.id,
            "view_mode": "form",
        }

    @api.model
    def action_score_now(self):
        """Score the current company's open invoices and subscriptions now."""
        self._check_manager()
        company = self.env.company
        service = self.env["isp.payment.risk.service"].sudo().with_company(company)
        service._score(company, fields.Date.context_today(self))
        return True

    # === jobs === #

    @api.model
    def _cron_train(self, date_ref=None):
        """The job *ISP: train the payment-risk model*."""
        return self.env["isp.payment.risk.service"]._cron_train(date_ref=date_ref)

    @api.model
    def _cron_score(self, date_ref=None):
        """The job *ISP: score the payment risk*."""
        return self.env["isp.payment.risk.service"]._cron_score(date_ref=date_ref)
