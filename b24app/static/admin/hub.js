/* The hub: open a page of the app the way an embedded app does (BX24.openApplication with
   {page: <placement key>}: the portal opens the app again and /app hands over to that page), and the
   install state — polled from GET /install/status while the install job runs, with retry for an admin. */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el;

  document.querySelectorAll('[data-b24app=hub] [data-page]').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var note = document.querySelector('[data-b24app=hub-note]');
      if (!window.BX24 || !BX24.openApplication) { note.hidden = false; note.textContent = S['hub.no_bx24']; return; }
      note.hidden = false; note.textContent = S['hub.opening'];
      BX24.openApplication({page: btn.getAttribute('data-page')}, function () { note.hidden = true; });
    });
  });

  var stateEl = document.querySelector('[data-b24app=install-state]');
  var bar = document.querySelector('[data-b24app=install-bar]');
  var errs = document.querySelector('[data-b24app=install-errors]');
  var retry = document.querySelector('[data-b24app=install-retry]');
  var timer = null;

  function show(st) {
    var state = st.state || 'done';
    stateEl.setAttribute('data-state', state);
    if (A.cfg.status === 'needs_reinstall') stateEl.textContent = S['install.needs_reinstall'];
    else if (state === 'running') stateEl.textContent = S['install.state.running'] + ': ' + (st.percent || 0) + '%' +
      (st.step ? ' — ' + st.step : '');
    else stateEl.textContent = S['install.state.' + state] || state;
    bar.hidden = !(state === 'running' || state === 'queued');
    bar.firstChild.style.width = (st.percent || 0) + '%';
    errs.textContent = '';
    (st.errors || []).forEach(function (e) { errs.appendChild(el('li', {text: String(e)})); });
    if (state === 'failed' && !retry) errs.appendChild(el('li', {text: S['install.admin_only']}));
    if (retry) retry.hidden = state !== 'failed';
    if ((state === 'running' || state === 'queued') && !timer) timer = setInterval(poll, 1500);
    if (state !== 'running' && state !== 'queued' && timer) { clearInterval(timer); timer = null; }
    A.fit();
  }

  function poll() {
    A.api('GET', '/install/status').then(show, function () { /* the next poll asks again */ });
  }

  if (retry) retry.addEventListener('click', function () {
    retry.disabled = true;
    A.api('POST', '/install/retry').then(function (st) { retry.disabled = false; show(st); }, function (e) {
      retry.disabled = false;
      errs.textContent = ''; errs.appendChild(el('li', {text: A.failure(e)}));
    });
  });

  show(A.cfg.install || {});
})();
