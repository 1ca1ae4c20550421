// Placeholder front-end: shows whether the server's database answers.
const status = document.getElementById('status');
fetch('/readyz')
  .then((r) => { status.textContent = r.ok ? 'ready' : 'database unavailable'; })
  .catch(() => { status.textContent = 'server unreachable'; });
