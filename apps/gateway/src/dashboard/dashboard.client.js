/* global document, window, EventSource */
// The Troupe dashboard's browser script: no framework, no build step. It reads the gateway's HTTP API
// with the API key the operator typed (kept in sessionStorage, sent as X-Api-Key) and renders the fleet
// by state, the approval inbox, and one workflow's statechart and journal. Live updates come from the
// SSE feed (`GET /feed?api_key=`; EventSource cannot send headers); without it the page polls.
'use strict';

(function dashboard() {
  const KEY_STORAGE = 'troupe.apiKey';
  const FLEET_PAGES = 10; // pages of 1,000 workflows read for the fleet view
  const POLL_MS = 3000; // refresh period when the live feed is unavailable
  const state = { apiKey: sessionStorage.getItem(KEY_STORAGE), roles: null, filter: null, selected: null, charts: new Map(), feed: null, poll: null, refreshTimer: null };

  const $ = (id) => document.getElementById(id);

  /** Creates an element; `attrs` may hold `class`, `text`, `on<event>` handlers and attributes. */
  function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') element.textContent = value;
      else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) element.append(child);
    return element;
  }

  function svg(tag, attrs, ...children) {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'text') element.textContent = value;
      else element.setAttribute(name, String(value));
    }
    for (const child of children.flat()) if (child) element.append(child);
    return element;
  }

  /** A state value as text: a leaf name, or the dotted leaf paths of a nested value. */
  function stateText(value) {
    if (value === null || value === undefined) return '-';
    if (typeof value === 'string') return value;
    const paths = [];
    const walk = (node, prefix) => {
      if (typeof node === 'string') paths.push(prefix + node);
      else for (const [key, child] of Object.entries(node)) walk(child, prefix + key + '.');
    };
    walk(value, '');
    return paths.join(', ');
  }

  /** What the text box holds, and what "Send edited" sends: a reply's body, a review's label, else JSON. */
  function proposedText(proposed) {
    if (typeof proposed === 'string') return proposed;
    if (proposed && typeof proposed.body === 'string') return proposed.body;
    if (proposed && typeof proposed.label === 'string') return proposed.label;
    return JSON.stringify(proposed, null, 2);
  }

  function showStatus(text, isProblem) {
    const status = $('status');
    status.textContent = text || '';
    status.className = isProblem ? 'problem' : 'muted';
  }

  /** An API error carrying the RFC 9457 problem the gateway answered. */
  class Problem extends Error {
    constructor(problem) {
      super(problem.status + ' ' + problem.title + (problem.detail ? ': ' + problem.detail : '') + (problem.issues ? '\n' + problem.issues.join('\n') : ''));
      this.problem = problem;
    }
  }

  /** Calls the API with the key; resolves to the JSON body; rejects with a Problem on an error status. */
  async function api(method, path, body) {
    const headers = { accept: 'application/json', 'x-api-key': state.apiKey || '' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const problem = json && typeof json.title === 'string' ? json : { status: response.status, title: response.statusText || 'HTTP ' + response.status, detail: text.slice(0, 300) };
      if (response.status === 401) signOut('The gateway refused the key: ' + (problem.detail || problem.title));
      throw new Problem(problem);
    }
    return json;
  }

  // ---- sign in ----------------------------------------------------------------------------------

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.apiKey = null;
    state.roles = null;
    stopLive();
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('identity').textContent = '';
    $('login').hidden = false;
    showStatus(message || '', Boolean(message));
  }

  async function signIn() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    try {
      const me = await api('GET', '/me');
      state.roles = me.roles;
      $('identity').textContent = me.id + ' (' + me.roles.join(', ') + ')';
    } catch (error) {
      if (!state.apiKey) return;
      $('identity').textContent = '';
      showStatus(String(error.message), true);
    }
    const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('workflow');
    if (fromHash) state.selected = fromHash;
    await refresh();
    startLive();
  }

  // ---- fleet ------------------------------------------------------------------------------------

  async function loadFleet() {
    const items = [];
    let cursor = null;
    for (let page = 0; page < FLEET_PAGES; page += 1) {
      const query = new URLSearchParams({ limit: '1000' });
      if (cursor) query.set('cursor', cursor);
      const body = await api('GET', '/workflows?' + query.toString());
      items.push(...body.items);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return { items, truncated: Boolean(cursor) };
  }

  function renderFleet(fleet) {
    const counts = new Map();
    for (const item of fleet.items) {
      const key = stateText(item.stateValue);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    $('fleet-total').textContent = fleet.items.length + (fleet.truncated ? '+' : '') + ' workflows';
    const chips = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([key, count]) =>
        h(
          'button',
          {
            type: 'button',
            class: 'count',
            'data-state': key,
            'aria-pressed': state.filter === key ? 'true' : 'false',
            onclick: () => {
              state.filter = state.filter === key ? null : key;
              renderFleet(fleet);
            },
          },
          key,
          h('b', { text: String(count) }),
        ),
      );
    $('fleet-counts').replaceChildren(...chips);
    const shown = fleet.items
      .filter((item) => state.filter === null || stateText(item.stateValue) === state.filter)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))
      .slice(0, 500);
    $('fleet-rows').replaceChildren(
      ...shown.map((item) =>
        h(
          'tr',
          { 'data-workflow-id': item.workflowId, class: item.workflowId === state.selected ? 'selected' : null, onclick: () => select(item.workflowId) },
          h('td', { text: item.workflowId, title: item.workflowId }),
          h('td', { text: item.workflowType }),
          h('td', { text: stateText(item.stateValue), class: 'state-badge' }),
          h('td', { text: item.status, class: 'status-' + item.status }),
          h('td', { text: new Date(item.updatedAt).toLocaleTimeString(), title: item.updatedAt }),
        ),
      ),
    );
  }

  // ---- approval inbox -----------------------------------------------------------------------------

  function renderInbox(items) {
    $('inbox-total').textContent = items.length + ' pending';
    if (items.length === 0) {
      $('inbox-items').replaceChildren(h('p', { class: 'muted', text: 'Nothing waits for a decision.' }));
      return;
    }
    // Keep what a human is typing: cards whose gate is still pending are left as they are.
    const container = $('inbox-items');
    const existing = new Map([...container.querySelectorAll('.card')].map((card) => [card.getAttribute('data-gate-id'), card]));
    const cards = items.map((item) => existing.get(item.pendingApproval.gateId) || inboxCard(item));
    container.replaceChildren(...cards);
  }

  function inboxCard(item) {
    const approval = item.pendingApproval;
    const text = h('textarea', { 'aria-label': 'Proposed text' });
    text.value = proposedText(approval.proposed);
    const comment = h('input', { type: 'text', placeholder: 'Comment (optional)', 'aria-label': 'Comment' });
    const outcome = h('span', { class: 'outcome' });
    const buttons = [];
    const decide = async (decision) => {
      for (const button of buttons) button.disabled = true;
      outcome.className = 'outcome muted';
      outcome.textContent = 'sending…';
      const body = { decision, gateId: approval.gateId };
      if (comment.value.trim()) body.comment = comment.value.trim();
      if (decision === 'edited') body.editedText = text.value;
      try {
        const accepted = await api('POST', '/workflows/' + encodeURIComponent(item.workflowId) + '/approvals', body);
        outcome.className = 'outcome';
        outcome.textContent = decision + ': event ' + accepted.eventId + ' published; waiting for the workflow…';
        card.classList.add('decided');
        scheduleRefresh(300);
      } catch (error) {
        outcome.className = 'outcome problem';
        outcome.textContent = error.message;
        for (const button of buttons) button.disabled = false;
      }
    };
    buttons.push(
      h('button', { type: 'button', class: 'approve', onclick: () => decide('approved') }, 'Approve'),
      h('button', { type: 'button', class: 'reject', onclick: () => decide('rejected') }, 'Reject'),
      h('button', { type: 'button', class: 'edit', title: 'Continue with the text as edited above', onclick: () => decide('edited') }, 'Send edited'),
    );
    // The gateway and the runtime check roles; the page only says beforehand what will be refused.
    const mayDecide = state.roles === null || state.roles.includes('admin') || state.roles.some((role) => approval.allowedRoles.includes(role));
    if (!mayDecide) {
      for (const button of buttons) button.disabled = true;
      outcome.className = 'outcome muted';
      outcome.textContent = 'Your roles (' + state.roles.join(', ') + ') may not decide at this gate.';
    }
    const card = h(
      'div',
      { class: 'card', 'data-workflow-id': item.workflowId, 'data-gate-id': approval.gateId },
      h('div', {}, h('a', { href: '#workflow=' + encodeURIComponent(item.workflowId), onclick: (event) => { event.preventDefault(); select(item.workflowId); } }, item.workflowId), ' · ', h('b', { text: approval.gate })),
      h('div', { class: 'meta', text: 'in ' + stateText(item.stateValue) + ' · may decide: ' + approval.allowedRoles.join(', ') + ' · requested ' + new Date(approval.requestedAt).toLocaleString() }),
      h('div', { class: 'meta', text: 'Why: ' + approval.reason }),
      text,
      comment,
      h('div', { class: 'actions' }, buttons, outcome),
    );
    return card;
  }

  // ---- one workflow: statechart and journal ------------------------------------------------------

  async function select(workflowId) {
    state.selected = workflowId;
    window.history.replaceState(null, '', '#workflow=' + encodeURIComponent(workflowId));
    for (const row of document.querySelectorAll('#fleet-rows tr')) row.classList.toggle('selected', row.getAttribute('data-workflow-id') === workflowId);
    await renderWorkflow();
  }

  async function renderWorkflow() {
    const workflowId = state.selected;
    if (!workflowId) return;
    let detail;
    try {
      detail = await api('GET', '/workflows/' + encodeURIComponent(workflowId));
    } catch (error) {
      $('workflow-title').textContent = workflowId;
      $('workflow-summary').replaceChildren(h('p', { class: 'problem', text: error.message }));
      return;
    }
    if (state.selected !== workflowId) return;
    $('workflow-title').textContent = workflowId + ' · ' + detail.workflowType;
    $('workflow-summary').replaceChildren(
      h(
        'p',
        {},
        'State ',
        h('span', { class: 'state-badge', id: 'workflow-state', 'data-state': stateText(detail.stateValue), text: stateText(detail.stateValue) }),
        ' · status ',
        h('span', { class: 'status-' + detail.status, id: 'workflow-status', text: detail.status }),
        ' · version ' + detail.version,
        Object.keys(detail.tags || {}).length ? ' · ' + Object.entries(detail.tags).map(([k, v]) => k + '=' + v).join(' ') : '',
      ),
    );
    await renderChart(detail);
    renderJournal(detail.journal || []);
  }

  async function chartFor(workflowType) {
    if (!state.charts.has(workflowType)) {
      state.charts.set(workflowType, api('GET', '/statecharts/' + encodeURIComponent(workflowType)).catch((error) => {
        state.charts.delete(workflowType);
        throw error;
      }));
    }
    return state.charts.get(workflowType);
  }

  async function renderChart(detail) {
    let chart;
    try {
      chart = await chartFor(detail.workflowType);
    } catch (error) {
      $('chart').replaceChildren(h('p', { class: 'problem', text: 'Statechart unavailable: ' + error.message }));
      return;
    }
    $('chart').replaceChildren(drawStatechart(chart.machine, detail.statePaths || []));
  }

  /**
   * Lays the machine's states out left to right by their distance from the initial state (breadth
   * first over the transitions) and draws them as boxes with arrows; the current state is highlighted.
   * Transitions declared on the root (taken from any state) are listed under the chart, not drawn.
   */
  function drawStatechart(machine, statePaths) {
    const rootId = machine.id;
    const nodes = new Map(); // path -> { path, key, type, targets: [{ path, event }] }
    const strip = (target) => {
      const id = String(target).replace(/^#/, '');
      return id.startsWith(rootId + '.') ? id.slice(rootId.length + 1) : id;
    };
    const transitionsOf = (node) => {
      const out = [];
      for (const [event, list] of Object.entries(node.on || {})) {
        for (const transition of [].concat(list || [])) {
          for (const target of [].concat(transition.target || [])) out.push({ path: strip(target), event });
        }
      }
      for (const transition of [].concat(node.always || [])) for (const target of [].concat(transition.target || [])) out.push({ path: strip(target), event: 'always' });
      return out;
    };
    const collect = (node, prefix) => {
      for (const [key, child] of Object.entries(node.states || {})) {
        const path = prefix ? prefix + '.' + key : key;
        nodes.set(path, { path, key: path, type: child.type, targets: transitionsOf(child) });
        collect(child, path);
      }
    };
    collect(machine, '');
    const globalTransitions = transitionsOf(machine);
    const initialTarget = machine.initial && machine.initial.target ? [].concat(machine.initial.target)[0] : typeof machine.initial === 'string' ? machine.initial : null;
    const initial = initialTarget ? strip(initialTarget) : nodes.keys().next().value;

    // Columns by breadth-first distance from the initial state; unreachable states go last.
    const depth = new Map();
    const queue = [];
    if (nodes.has(initial)) {
      depth.set(initial, 0);
      queue.push(initial);
    }
    while (queue.length) {
      const path = queue.shift();
      for (const { path: target } of nodes.get(path).targets) {
        if (nodes.has(target) && !depth.has(target)) {
          depth.set(target, depth.get(path) + 1);
          queue.push(target);
        }
      }
    }
    const lastColumn = Math.max(0, ...depth.values()) + 1;
    for (const path of nodes.keys()) if (!depth.has(path)) depth.set(path, lastColumn);
    const columns = [];
    for (const [path, column] of depth) (columns[column] = columns[column] || []).push(path);

    const BOX_W = 150, BOX_H = 38, GAP_X = 70, GAP_Y = 22, PAD = 20;
    const position = new Map();
    columns.forEach((paths, column) => (paths || []).forEach((path, row) => position.set(path, { x: PAD + column * (BOX_W + GAP_X), y: PAD + row * (BOX_H + GAP_Y) })));
    const width = PAD * 2 + columns.length * (BOX_W + GAP_X) - GAP_X;
    const height = PAD * 2 + Math.max(...columns.map((paths) => (paths || []).length)) * (BOX_H + GAP_Y) - GAP_Y + 44;
    const current = new Set();
    for (const statePath of statePaths) {
      const parts = String(statePath).split('.');
      for (let i = 1; i <= parts.length; i += 1) current.add(parts.slice(0, i).join('.'));
    }

    const edges = [];
    const seen = new Set();
    for (const node of nodes.values()) {
      for (const { path: target, event } of node.targets) {
        const key = node.path + '->' + target;
        if (!position.has(target) || seen.has(key) || target === node.path) continue;
        seen.add(key);
        const from = position.get(node.path);
        const to = position.get(target);
        // Forward: right side to left side. Same column: straight up or down. Backward: a curve below.
        const forward = to.x > from.x;
        const sameColumn = to.x === from.x;
        const up = to.y < from.y;
        let d;
        let x1, y1, x2, y2;
        if (forward) {
          x1 = from.x + BOX_W; y1 = from.y + BOX_H / 2; x2 = to.x; y2 = to.y + BOX_H / 2;
          d = 'M' + x1 + ',' + y1 + ' C' + (x1 + GAP_X / 2) + ',' + y1 + ' ' + (x2 - GAP_X / 2) + ',' + y2 + ' ' + x2 + ',' + y2;
        } else if (sameColumn && Math.abs(to.y - from.y) > BOX_H + GAP_Y) {
          // Not adjacent: around the boxes between, on the left.
          x1 = from.x; y1 = from.y + BOX_H / 2; x2 = to.x; y2 = to.y + BOX_H / 2;
          d = 'M' + x1 + ',' + y1 + ' C' + (x1 - 28) + ',' + y1 + ' ' + (x2 - 28) + ',' + y2 + ' ' + x2 + ',' + y2;
        } else if (sameColumn) {
          x1 = from.x + BOX_W / 2; y1 = up ? from.y : from.y + BOX_H; x2 = x1; y2 = up ? to.y + BOX_H : to.y;
          d = 'M' + x1 + ',' + y1 + ' L' + x2 + ',' + y2;
        } else {
          x1 = from.x + BOX_W / 3; y1 = from.y + BOX_H; x2 = to.x + (2 * BOX_W) / 3; y2 = to.y + BOX_H;
          d = 'M' + x1 + ',' + y1 + ' C' + x1 + ',' + (y1 + 40) + ' ' + x2 + ',' + (y2 + 40) + ' ' + x2 + ',' + y2;
        }
        const label = event.startsWith('xstate.after.') ? 'after ' + event.split('.')[2] : event;
        edges.push(svg('path', { class: 'edge', d, 'marker-end': 'url(#arrow)' }, svg('title', { text: node.path + ' → ' + target + ' on ' + label })));
        if (forward) edges.push(svg('text', { class: 'edge-label', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 3, 'text-anchor': 'middle', text: label.length > 18 ? label.slice(0, 17) + '…' : label }));
      }
    }
    const boxes = [...nodes.values()].map((node) => {
      const at = position.get(node.path);
      const classes = ['state', node.type === 'final' ? 'final' : '', current.has(node.path) ? 'current' : ''].filter(Boolean).join(' ');
      return svg(
        'g',
        { class: classes, 'data-state': node.path, transform: 'translate(' + at.x + ',' + at.y + ')' },
        svg('rect', { width: BOX_W, height: BOX_H, rx: node.type === 'final' ? 14 : 6 }),
        svg('text', { x: BOX_W / 2, y: BOX_H / 2 + 4, 'text-anchor': 'middle', text: node.key }),
      );
    });
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#94a3b8' })));
    const drawing = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'Statechart of ' + rootId + ', current state ' + statePaths.join(', ') }, defs, edges, boxes);
    const anywhere = [...new Set(globalTransitions.map((t) => t.event + ' → ' + t.path))];
    return h('div', {}, drawing, anywhere.length ? h('p', { class: 'muted', text: 'From any state: ' + anywhere.join(' · ') }) : null);
  }

  function renderJournal(entries) {
    $('journal').replaceChildren(
      ...entries.map((entry) => {
        const payload = entry.event && entry.event.payload ? entry.event.payload : null;
        const who = payload && payload.approver ? ' by ' + payload.approver.id + (payload.decision ? ' (' + payload.decision + ')' : '') : '';
        return h(
          'li',
          { class: entry.rejection ? 'rejected' : null, 'data-seq': entry.seq },
          h('div', {}, h('b', { text: '#' + entry.seq + ' ' + entry.eventType }), who, ' ', h('span', { text: stateText(entry.fromStateValue) + ' → ' + stateText(entry.stateValue) })),
          h('div', { class: 'when', text: new Date(entry.appliedAt).toLocaleString() + (entry.effects.length ? ' · effects: ' + entry.effects.map((e) => e.kind).join(', ') : '') }),
          entry.rejection ? h('div', { class: 'note', text: 'not applied: ' + entry.rejection }) : null,
        );
      }),
    );
  }

  // ---- refresh and live feed -----------------------------------------------------------------------

  async function refresh() {
    if (!state.apiKey) return;
    // Each part shows its own problem, so one failing route does not blank the page.
    const problems = [];
    const [fleet, inbox] = await Promise.allSettled([loadFleet(), api('GET', '/approvals?limit=200')]);
    if (fleet.status === 'fulfilled') renderFleet(fleet.value);
    else problems.push('Fleet: ' + fleet.reason.message);
    if (inbox.status === 'fulfilled') renderInbox(inbox.value.items);
    else {
      problems.push('Inbox: ' + inbox.reason.message);
      $('inbox-items').replaceChildren(h('p', { class: 'problem', text: inbox.reason.message }));
    }
    await renderWorkflow();
    if (!state.apiKey) return;
    if (problems.length) showStatus(problems.join('\n'), true);
    else showStatus('Updated ' + new Date().toLocaleTimeString() + (state.feed && state.feed.readyState === 1 ? ' · live' : ' · polling'), false);
  }

  function scheduleRefresh(delayMs) {
    if (state.refreshTimer) return;
    state.refreshTimer = window.setTimeout(() => {
      state.refreshTimer = null;
      refresh();
    }, delayMs);
  }

  function startLive() {
    stopLive();
    if (typeof EventSource === 'function') {
      const feed = new EventSource('/feed?api_key=' + encodeURIComponent(state.apiKey));
      feed.addEventListener('workflow.changed', () => scheduleRefresh(500));
      feed.onerror = () => {
        // EventSource retries by itself; keep polling meanwhile so the page never goes stale.
        if (!state.poll) state.poll = window.setInterval(refresh, POLL_MS);
      };
      feed.onopen = () => {
        if (state.poll) window.clearInterval(state.poll);
        state.poll = null;
      };
      state.feed = feed;
    } else {
      state.poll = window.setInterval(refresh, POLL_MS);
    }
  }

  function stopLive() {
    if (state.feed) state.feed.close();
    if (state.poll) window.clearInterval(state.poll);
    state.feed = null;
    state.poll = null;
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    state.apiKey = key;
    $('api-key').value = '';
    showStatus('', false);
    signIn();
  });
  $('sign-out').addEventListener('click', () => signOut());

  if (state.apiKey) signIn();
  else signOut();
})();
