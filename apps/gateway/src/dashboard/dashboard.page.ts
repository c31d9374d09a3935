/** Path of the dashboard's script, served by {@link DashboardController}. */
export const DASHBOARD_SCRIPT_PATH = '/dashboard/dashboard.js';

/**
 * The dashboard's HTML: the page's layout, styles and the sign-in form, rendered on the server. It holds
 * no workflow data (the page itself needs no credential); the script fetches the data from the API with
 * the operator's API key (`X-Api-Key`), kept in `sessionStorage`.
 */
export function renderDashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Troupe dashboard</title>
<style>
  :root { --ink: #1d2330; --muted: #5f6b7a; --line: #d8dee6; --panel: #ffffff; --bg: #f3f5f8; --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #111827; color: #f9fafb; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  header .spacer { flex: 1; }
  header button { background: transparent; color: inherit; border: 1px solid #4b5563; }
  main { display: grid; grid-template-columns: minmax(340px, 1fr) minmax(420px, 1.3fr); gap: 16px; padding: 16px 20px; }
  section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section.panel h2 { font-size: 15px; margin: 0 0 10px; display: flex; gap: 8px; align-items: baseline; }
  section.panel h2 small { color: var(--muted); font-weight: normal; }
  #workflow { grid-column: 1 / -1; }
  button { font: inherit; padding: 4px 10px; border-radius: 5px; border: 1px solid var(--line); background: #f9fafb; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  button.approve { background: var(--ok); border-color: var(--ok); color: #fff; }
  button.reject { background: #fff; border-color: var(--bad); color: var(--bad); }
  button.edit { background: #fff; border-color: var(--accent); color: var(--accent); }
  .counts { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 10px; }
  .count { border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; background: #f9fafb; cursor: pointer; }
  .count[aria-pressed="true"] { border-color: var(--accent); background: #e0eaff; }
  .count b { margin-left: 4px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  tbody tr { cursor: pointer; }
  tbody tr:hover, tbody tr.selected { background: #eef3ff; }
  .scroll { max-height: 320px; overflow: auto; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 10px; margin-bottom: 10px; }
  .card .meta { color: var(--muted); font-size: 12px; }
  .card textarea { width: 100%; min-height: 90px; font: 13px/1.4 ui-monospace, monospace; margin: 6px 0; }
  .card input { width: 100%; margin-bottom: 6px; font: inherit; padding: 3px 6px; }
  .card .actions { display: flex; gap: 8px; align-items: center; }
  .card .outcome { font-size: 12px; }
  .state-badge { font-weight: 600; }
  .status-done { color: var(--ok); } .status-active { color: var(--accent); } .status-error, .status-stopped { color: var(--bad); }
  #chart svg { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fcfdff; }
  #chart .state rect { fill: #fff; stroke: #94a3b8; stroke-width: 1.2; }
  #chart .state.final rect { stroke-width: 2.4; }
  #chart .state.current rect { fill: #dbeafe; stroke: var(--accent); stroke-width: 3; }
  #chart .state text { font-size: 12px; fill: var(--ink); }
  #chart .state.current text { font-weight: 700; }
  #chart .edge { fill: none; stroke: #94a3b8; stroke-width: 1.2; }
  #chart .edge-label { font-size: 9px; fill: var(--muted); }
  ol.timeline { list-style: none; padding: 0 0 0 14px; margin: 10px 0 0; border-left: 2px solid var(--line); }
  ol.timeline li { position: relative; padding: 0 0 10px 12px; }
  ol.timeline li::before { content: ""; position: absolute; left: -21px; top: 5px; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); }
  ol.timeline li.rejected::before { background: var(--bad); }
  ol.timeline .when { color: var(--muted); font-size: 12px; }
  ol.timeline .note { color: var(--bad); }
  .problem { color: var(--bad); white-space: pre-wrap; }
  #status { padding: 6px 20px; min-height: 1.5em; }
  #login { max-width: 420px; margin: 60px auto; }
  #login input { width: 100%; font: inherit; padding: 6px 8px; margin: 8px 0; }
  .muted { color: var(--muted); }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>Troupe</h1><span class="muted">workflows, approvals, journal</span>
  <span class="spacer"></span>
  <span id="identity"></span>
  <button type="button" id="sign-out" hidden>Sign out</button>
</header>
<div id="status" role="status" aria-live="polite"></div>
<section class="panel" id="login" hidden>
  <h2>Sign in</h2>
  <form id="login-form">
    <label for="api-key">API key</label>
    <input id="api-key" name="apiKey" type="password" autocomplete="off" required>
    <button type="submit">Use this key</button>
    <p class="muted">The key stays in this tab (sessionStorage) and is sent as <code>X-Api-Key</code>.</p>
  </form>
</section>
<main id="app" hidden>
  <section class="panel" id="fleet">
    <h2>Fleet <small id="fleet-total"></small></h2>
    <div class="counts" id="fleet-counts"></div>
    <div class="scroll">
      <table>
        <thead><tr><th>Workflow</th><th>Type</th><th>State</th><th>Status</th><th>Updated</th></tr></thead>
        <tbody id="fleet-rows"></tbody>
      </table>
    </div>
  </section>
  <section class="panel" id="inbox">
    <h2>Approval inbox <small id="inbox-total"></small></h2>
    <div id="inbox-items"></div>
  </section>
  <section class="panel" id="workflow">
    <h2>Workflow <small id="workflow-title">select one in the fleet or the inbox</small></h2>
    <div id="workflow-summary"></div>
    <div id="chart"></div>
    <ol class="timeline" id="journal"></ol>
  </section>
</main>
<script src="${DASHBOARD_SCRIPT_PATH}" defer></script>
</body>
</html>
`;
}
