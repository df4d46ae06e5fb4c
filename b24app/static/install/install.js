/* The installer frame: polls install/status while the install job is queued or running, shows the
   step, errors and retry, and calls BX24.installFinish() once the job is done. Paths stay relative to
   /install (as the page always had them). */
(function () {
  'use strict';
  var S = B24.s;
  var root = document.querySelector('[data-b24app=install]');
  var $ = function (id) { return document.getElementById(id); };
  var finished = false, timer = null, queuedPolls = 0;

  function finish() {
    if (finished) return;
    finished = true;
    $('install-state').textContent = S.done;
    B24.fit.ready(function () {
      BX24.installFinish();
      $('install-state').textContent = S.finished;
    });
  }

  function show(st) {
    root.dataset.state = st.state;
    $('install-bar').style.width = (st.percent || 0) + '%';
    $('install-bar').parentNode.setAttribute('aria-valuenow', st.percent || 0);
    $('install-count').textContent = st.total ? (st.done + ' / ' + st.total) : '';
    $('install-step').textContent = st.step ? (S.step + ': ' + st.step) : '';
    var errs = $('install-errors');
    if (st.state === 'failed') {
      $('install-state').textContent = S.failed;
      errs.textContent = (st.errors || []).join('\n');
      errs.hidden = false;
      $('install-retry').hidden = false;
    } else {
      errs.hidden = true;
      $('install-retry').hidden = true;
      queuedPolls = st.state === 'queued' ? queuedPolls + 1 : 0;
      if (st.state !== 'done') $('install-state').textContent = queuedPolls > 20 ? S.no_worker : (S[st.state] || S.running);
    }
    if (st.state === 'done') finish();
  }

  function refused(e) { B24.say($('install-errors'), e.message); $('install-errors').hidden = false; }

  function poll() {
    B24.api('GET', 'install/status').then(function (st) {
      show(st);
      if (st.state === 'queued' || st.state === 'running') timer = setTimeout(poll, 1000);
    }, refused);
  }

  $('install-retry').addEventListener('click', function () {
    $('install-retry').hidden = true;
    B24.api('POST', 'install/retry').then(function (st) {
      show(st); clearTimeout(timer); timer = setTimeout(poll, 500);
    }, refused);
  });
  poll();
})();
