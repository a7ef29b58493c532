// The dashboard's HTML shell. It holds no data (and so needs no token): the page fetches
// /dashboard/data, which requireOperator guards, with the token the operator typed (sessionStorage).

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice — operator dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/uplot.css">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #212529; background: #f8f9fa; }
  header { display: flex; align-items: baseline; gap: 1rem; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.5rem; } h3 { font-size: 0.95rem; margin: 0 0 0.5rem; }
  .row { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1rem; }
  .card { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 0.75rem; flex: 1 1 380px; overflow-x: auto; }
  .fairness { flex: 0 1 260px; }
  .gauge { height: 14px; background: #e9ecef; border-radius: 7px; overflow: hidden; }
  .gauge-fill { height: 100%; background: linear-gradient(90deg, #e03131, #f08c00 60%, #2f9e44 90%); width: 0; }
  .gauge-value { font-size: 1.6rem; margin-top: 0.25rem; }
  .small, #status { color: #868e96; font-size: 0.85rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: right; padding: 2px 8px; border-bottom: 1px solid #f1f3f5; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  tr.unhealthy td { color: #c92a2a; }
  tr.rest td { color: #868e96; font-style: italic; }
  .pager { margin-bottom: 0.5rem; }
  #login { background: #fff3bf; padding: 1rem; border-radius: 6px; }
</style>
</head>
<body>
<header><h1>Sluice</h1><span id="status">Loading…</span>
<button type="button" id="forget-token">Forget token</button></header>
<form id="login" hidden>
  <p id="login-message"></p>
  <label>Admin token <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">Open</button>
  <span class="small">Kept in this tab only (sessionStorage), sent as a header.</span>
</form>
<main id="pools"></main>
<script src="/dashboard/uplot.js"></script>
<script src="/dashboard/client.js"></script>
</body>
</html>
`;
