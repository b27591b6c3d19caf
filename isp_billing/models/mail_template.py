# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import safe_eval


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(
        self, template_src, model, res_ids, add_context=None, options=None
    ):
        """Override of `mail`: for the dunning ladder's batches, compile the
        QWeb template once for all records instead of once per record (Odoo
        parses and compiles it anew for each one: most of the time of a
        reminder run). Same values, same rendering; anything unusual (a user
        with restricted rendering, an error) goes through Odoo's own path.

        It reproduces ``mail.render.mixin._render_template_qweb`` and
        ``ir.qweb._render`` with the compilation taken out of the loop: it
        halves a reminder run (docs/benchmarks.md, dunning section), and
        ``tests/test_mail_template.py`` fails when those internals change."""
        if (
            not self.env.context.get("isp_qweb_compile_once")
            or len(res_ids) < 2
            or not template_src
            or not self._has_unsafe_expression_template_qweb(template_src, model)
            or not (
                self._unrestricted_rendering
                or self.env.is_admin()
                or self.env.user.has_group("mail.group_mail_template_editor")
            )
        ):
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        variables = self._render_eval_context()
        if add_context:
            variables.update(**add_context)
        qweb = self.env["ir.qweb"].with_context(**(options or {}))
        results = {}
        render = None
        try:
            for record in self.env[model].browse(res_ids):
                values = dict(variables, object=record)
                env_qweb = qweb._prepare_environment(values)
                safe_eval.check_values(values)
                if render is None:
                    functions, def_name = env_qweb._compile(
                        html.fragment_fromstring(template_src, create_parent="div")
                    )
                    render = functions[def_name]
                # without the <div> added to wrap several nodes into one
                results[record.id] = Markup("".join(render(env_qweb, values)))[5:-6]
        except Exception:  # noqa: BLE001 - Odoo's path renders and reports it
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        return results
