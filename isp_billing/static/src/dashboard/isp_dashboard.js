/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { getColor } from "@web/core/colors/colors";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { ControlPanel } from "@web/search/control_panel/control_panel";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/**
 * The ISP app's landing page. Every figure comes from one call,
 * isp.dashboard.get_dashboard_data(filters), with the window action that
 * lists the records behind it; clicking a tile runs that action.
 */
export class IspDashboard extends Component {
    static template = "isp_billing.Dashboard";
    static components = { ControlPanel };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.canvasRef = useRef("chart");
        this.chart = null;
        this.state = useState({
            data: null,
            filters: { ...(this.props.state?.filters || {}) },
            error: false,
        });
        onWillStart(async () => {
            await Promise.all([loadBundle("web.chartjs_lib"), this.load()]);
        });
        useEffect(
            () => {
                this.renderChart();
            },
            () => [this.state.data]
        );
        onWillUnmount(() => this.chart?.destroy());
        // Back from a tile's list (breadcrumb): the same filters again.
        useSetupAction({ getLocalState: () => ({ filters: { ...this.state.filters } }) });
    }

    async load() {
        const data = await this.orm.call("isp.dashboard", "get_dashboard_data", [
            this.state.filters,
        ]);
        this.state.filters = { ...data.filters };
        this.state.data = data;
    }

    get sections() {
        const titles = {
            subscribers: _t("Subscribers"),
            revenue: _t("Recurring revenue"),
            money: _t("Receivables"),
            collections: _t("Collections"),
            work: _t("To do"),
            network: _t("Network"),
        };
        const order = ["revenue", "subscribers", "money", "collections", "work", "network"];
        const bySection = {};
        for (const tile of this.state.data.tiles) {
            (bySection[tile.section] ||= []).push(tile);
        }
        const keys = [
            ...order.filter((key) => bySection[key]),
            ...Object.keys(bySection).filter((key) => !order.includes(key)),
        ];
        return keys.map((key) => ({ key, title: titles[key] || key, tiles: bySection[key] }));
    }

    get showCompanies() {
        return this.state.data.options.companies.length > 1;
    }

    isCompanyChosen(companyId) {
        return this.state.filters.company_ids.includes(companyId);
    }

    async onCompanyToggle(companyId, ev) {
        const chosen = new Set(this.state.filters.company_ids);
        if (ev.target.checked) {
            chosen.add(companyId);
        } else if (chosen.size > 1) {
            chosen.delete(companyId);
        } else {
            ev.target.checked = true;
            return;
        }
        this.state.filters.company_ids = this.state.data.options.companies
            .map((c) => c.id)
            .filter((id) => chosen.has(id));
        await this.load();
    }

    async onPeriodChange(ev) {
        if (!ev.target.value) {
            return;
        }
        this.state.filters.period = ev.target.value;
        await this.load();
    }

    async onPlanChange(ev) {
        this.state.filters.plan_id = parseInt(ev.target.value) || false;
        await this.load();
    }

    async openTile(tile) {
        await this.actionService.doAction(tile.action);
    }

    renderChart() {
        this.chart?.destroy();
        this.chart = null;
        const chart = this.state.data?.chart;
        if (!chart || !this.canvasRef.el) {
            return;
        }
        const datasets = chart.datasets.map((dataset, index) => ({
            backgroundColor: getColor(index),
            borderColor: getColor(index),
            ...dataset,
        }));
        this.chart = new Chart(this.canvasRef.el, {
            type: "bar",
            data: { labels: chart.labels, datasets },
            options: {
                maintainAspectRatio: false,
                responsive: true,
                interaction: { mode: "index", intersect: false },
                scales: {
                    x: { stacked: true },
                    y: { stacked: true, beginAtZero: true },
                    ...(chart.scales || {}),
                },
                plugins: { legend: { position: "bottom" } },
                onClick: (event, elements, chart) => {
                    // the bar or point under the pointer (where it ends up when
                    // still animated), else the month's first
                    const hit = chart.getElementsAtEventForMode(
                        event,
                        "nearest",
                        { intersect: true },
                        true
                    );
                    this.onChartClick(hit.length ? hit : elements);
                },
            },
        });
    }

    async onChartClick(elements) {
        // The action of the clicked bar is built on the click, for the
        // filters the chart was drawn with (not one per bar with the chart).
        const chart = this.state.data.chart;
        if (!elements.length || !chart.click) {
            return;
        }
        const { datasetIndex, index } = elements[0];
        const series = chart.click.series[datasetIndex];
        const point = chart.click.points[index];
        if (!series || !point) {
            return;
        }
        const action = await this.orm.call("isp.dashboard", "get_dashboard_chart_action", [
            this.state.data.filters,
            series,
            point,
            chart.click.currency_id,
        ]);
        await this.actionService.doAction(action);
    }
}

registry.category("actions").add("isp_billing.dashboard", IspDashboard);
