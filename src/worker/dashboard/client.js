// The dashboard's browser side: polls /dashboard/data every POLL_MS with the operator token (kept in
// sessionStorage, sent as a header, never put in a URL), renders the tables, and draws the charts with
// uPlot (served by the Worker at /dashboard/uplot.js). Plain browser JavaScript, no build step.
/* global uPlot */
(function () {
  'use strict';
  const POLL_MS = 1500;
  const PAGE = 20;
  const CHART_HEIGHT = 200;
  const TOKEN_KEY = 'sluice.adminToken';
  const state = { offset: 0, charts: new Map(), timer: null };
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }

  const fmt = (n, digits) => (n === null || n === undefined ? '–' : Number(n).toFixed(digits ?? 0));
  const ms = (n) =>
    n === null || n === undefined ? '–' : n < 1000 ? `${n.toFixed(0)} ms` : `${(n / 1000).toFixed(2)} s`;

  function showLogin(message) {
    $('#login').hidden = false;
    $('#login-message').textContent = message;
  }

  async function poll() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    let res;
    try {
      res = await fetch(`/dashboard/data?offset=${state.offset}&limit=${PAGE}`, {
        headers,
        cache: 'no-store',
      });
    } catch (err) {
      $('#status').textContent = `Router unreachable (${err.message}); retrying…`;
      return;
    }
    if (res.status === 401) {
      stop();
      showLogin(token ? 'That token was refused.' : 'This router needs its admin token.');
      return;
    }
    if (!res.ok) {
      $('#status').textContent = `The router answered ${res.status}; retrying…`;
      return;
    }
    $('#login').hidden = true;
    const view = await res.json();
    render(view);
    $('#status').textContent = `Updated ${new Date(view.at).toLocaleTimeString()}`;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  function render(view) {
    const root = $('#pools');
    for (const pool of view.pools) {
      let section = root.querySelector(`section[data-pool="${CSS.escape(pool.pool)}"]`);
      if (!section) {
        section = buildPool(pool.pool);
        root.append(section);
        // Built before it was in the page, the charts could not know their width: fit them now.
        fitCharts(pool.pool);
      }
      fillPool(section, pool);
    }
  }

  function buildPool(name) {
    const section = el('section', { 'data-pool': name, class: 'pool' }, [
      el('h2', { text: `Pool ${name}` }),
      el('div', { class: 'row' }, [
        el('div', { class: 'card fairness' }, [
          el('h3', { text: 'Fairness (Jain, last minute)' }),
          el('div', { class: 'gauge' }, [el('div', { class: 'gauge-fill' })]),
          el('div', { class: 'gauge-value', 'data-field': 'fairness' }),
          el('div', { class: 'small', 'data-field': 'fairness-levels' }),
        ]),
        el('div', { class: 'card backends' }, [
          el('h3', { text: 'Backends' }),
          el('table', { class: 'backends-table' }),
        ]),
      ]),
      el('div', { class: 'row' }, [
        el('div', { class: 'card chart' }, [
          el('h3', { text: 'Queue depth' }),
          el('div', { class: 'chart-depth' }),
        ]),
        el('div', { class: 'card chart' }, [
          el('h3', { text: 'Queue wait' }),
          el('div', { class: 'chart-wait' }),
        ]),
      ]),
      el('div', { class: 'card' }, [
        el('h3', {}, ['Workloads ', el('span', { class: 'small', 'data-field': 'page' })]),
        el('div', { class: 'pager' }, [
          el('button', { type: 'button', 'data-page': 'prev', text: '◀ busier' }),
          el('button', { type: 'button', 'data-page': 'next', text: 'quieter ▶' }),
        ]),
        el('table', { class: 'workloads-table' }),
      ]),
    ]);
    section.querySelector('[data-page=prev]').addEventListener('click', () => page(-PAGE));
    section.querySelector('[data-page=next]').addEventListener('click', () => page(PAGE));
    const mk = (cls, series) => {
      const target = section.querySelector(cls);
      const chart = new uPlot(
        {
          width: Math.max(300, target.clientWidth || 460),
          height: CHART_HEIGHT,
          series: [{}, ...series],
          axes: [{}, {}],
        },
        [[], ...series.map(() => [])],
        target,
      );
      return chart;
    };
    state.charts.set(name, {
      depth: mk('.chart-depth', [
        { label: 'queued', stroke: '#d9480f', width: 2 },
        { label: 'running', stroke: '#1971c2', width: 2 },
      ]),
      wait: mk('.chart-wait', [
        { label: 'p50 wait (s)', stroke: '#2f9e44', width: 2 },
        { label: 'p95 wait (s)', stroke: '#9c36b5', width: 2 },
      ]),
    });
    return section;
  }

  /** Sizes a pool's charts to the cards that hold them (on first show and whenever the window resizes). */
  function fitCharts(name) {
    const charts = state.charts.get(name);
    if (!charts) return;
    for (const chart of [charts.depth, charts.wait]) {
      const width = chart.root.parentElement ? chart.root.parentElement.clientWidth : 0;
      if (width > 0 && Math.abs(width - chart.width) > 1) chart.setSize({ width, height: CHART_HEIGHT });
    }
  }

  function page(delta) {
    state.offset = Math.max(0, state.offset + delta);
    void poll();
  }

  function row(cells, attrs) {
    return el(
      'tr',
      attrs,
      cells.map(([text, field]) => el('td', field ? { 'data-field': field, text } : { text })),
    );
  }

  function fillPool(section, pool) {
    const f = pool.fairness.overall;
    section.querySelector('[data-field=fairness]').textContent =
      f === null ? 'n/a (no two workloads of one criticality competed)' : f.toFixed(3);
    section.querySelector('.gauge-fill').style.width = `${f === null ? 0 : Math.round(f * 100)}%`;
    section.querySelector('[data-field=fairness-levels]').textContent = pool.fairness.byCriticality
      .filter((l) => l.jain !== null)
      .map((l) => `crit ${l.criticality}: ${l.jain.toFixed(3)}`)
      .join(' · ');

    const backends = section.querySelector('.backends-table');
    backends.replaceChildren(
      el(
        'tr',
        {},
        ['backend', 'in flight / slots', 'state', 'saturated', 'engine waiting', 'KV use'].map((h) =>
          el('th', { text: h }),
        ),
      ),
      ...pool.backends.map((b) =>
        row(
          [
            [b.name],
            [`${b.inFlight} / ${b.slots}`, 'slots'],
            [b.state, 'state'],
            [b.saturated ? 'yes' : 'no'],
            [fmt(b.engineWaiting)],
            [b.kvCacheUsage === null ? '–' : `${(b.kvCacheUsage * 100).toFixed(0)}%`],
          ],
          { 'data-backend': b.name, class: b.state === 'healthy' ? '' : 'unhealthy' },
        ),
      ),
    );

    const from = pool.workloads.length === 0 ? 0 : pool.offset + 1;
    section.querySelector('[data-field=page]').textContent =
      `(${from}–${pool.offset + pool.workloads.length} of ${pool.workloadCount}, busiest first)`;
    const cols = [
      'workload',
      'queued',
      'running',
      'req/s',
      'wait p50',
      'wait p95',
      'requests',
      'success',
      'rejected',
      'evicted',
      'cancelled',
      'upstream err',
      'lost',
      'prompt tok',
      'completion tok',
    ];
    const cells = (w) => [
      [w.workloadId, 'workloadId'],
      [String(w.queued), 'queued'],
      [String(w.running), 'running'],
      [fmt(w.ratePerSec, 2), 'rate'],
      [ms(w.waitP50Ms), 'waitP50'],
      [ms(w.waitP95Ms), 'waitP95'],
      [String(w.requests), 'requests'],
      [String(w.outcomes.success), 'success'],
      [String(w.outcomes.rejected), 'rejected'],
      [String(w.outcomes.evicted), 'evicted'],
      [String(w.outcomes.cancelled), 'cancelled'],
      [String(w.outcomes.upstream_error), 'upstream_error'],
      [String(w.outcomes.lost), 'lost'],
      [String(w.promptTokens), 'promptTokens'],
      [String(w.completionTokens), 'completionTokens'],
    ];
    section.querySelector('.workloads-table').replaceChildren(
      el(
        'tr',
        {},
        cols.map((h) => el('th', { text: h })),
      ),
      ...pool.workloads.map((w) => row(cells(w), { 'data-workload': w.workloadId })),
      row(cells({ ...pool.rest, workloadId: 'everyone else' }), { class: 'rest' }),
    );

    const charts = state.charts.get(pool.pool);
    const xs = pool.history.map((p) => p.at / 1000);
    charts.depth.setData([xs, pool.history.map((p) => p.queued), pool.history.map((p) => p.inFlight)]);
    charts.wait.setData([
      xs,
      pool.history.map((p) => (p.waitP50Ms === null ? null : p.waitP50Ms / 1000)),
      pool.history.map((p) => (p.waitP95Ms === null ? null : p.waitP95Ms / 1000)),
    ]);
  }

  function start() {
    stop();
    void poll();
    state.timer = setInterval(() => void poll(), POLL_MS);
  }

  function stop() {
    if (state.timer !== null) clearInterval(state.timer);
    state.timer = null;
  }

  window.addEventListener('resize', () => {
    for (const name of state.charts.keys()) fitCharts(name);
  });

  $('#login').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#token');
    sessionStorage.setItem(TOKEN_KEY, input.value);
    input.value = '';
    start();
  });
  $('#forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  start();
})();
