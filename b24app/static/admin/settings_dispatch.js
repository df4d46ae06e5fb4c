/* Dispatch settings: GET/PUT /api/maps/settings. PUT replaces the whole document, so the form edits a
   copy of the stored one (keys it does not show — workers, fixed_slack_min — are sent back as they were).
   People are picked by name (A.personPicker) and shown by name (the view's "names"); a worker's home base
   is typed as an address, which the server geocodes on save (its point goes to "homes"). */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el, field = A.field;
  var form = document.querySelector('[data-b24app=settings-dispatch]');
  if (!form) return;
  var DAYS = S['weekdays'].split(','), TEAMS = ['measurements', 'production', 'installation'];
  var stored = {}, names = {};

  function time(name, value) { return el('input', {type: 'time', name: name, value: value || ''}); }

  function hoursBlock(prefix, h, partial) {
    var br = (h.breaks && h.breaks[0]) || ['', ''];
    var wd = el('span', {'class': 'weekdays'});
    DAYS.forEach(function (d, i) {
      var on = h.weekdays ? h.weekdays.indexOf(i) >= 0 : !partial && i < 5;
      wd.appendChild(el('label', {}, [el('input', {type: 'checkbox', name: prefix + 'wd', value: String(i), checked: on}), d]));
    });
    return el('div', {'class': 'hours', 'data-hours': prefix}, [
      field(S['dispatch.start'], time(prefix + 'start', h.start)), field(S['dispatch.end'], time(prefix + 'end', h.end)),
      field(S['dispatch.break'], el('span', {}, [time(prefix + 'b0', br[0]), '–', time(prefix + 'b1', br[1])])),
      field(S['dispatch.weekdays'], wd)]);
  }

  function readHours(box) {
    var p = box.getAttribute('data-hours'), q = function (n) { return box.querySelector('[name="' + p + n + '"]').value; };
    var out = {};
    if (q('start')) out.start = q('start');
    if (q('end')) out.end = q('end');
    var b0 = q('b0'), b1 = q('b1');
    out.breaks = b0 || b1 ? [[b0, b1]] : [];
    out.weekdays = [];
    box.querySelectorAll('[name="' + p + 'wd"]').forEach(function (c) { if (c.checked) out.weekdays.push(parseInt(c.value, 10)); });
    return out;
  }

  /* A worker's hours are stored as what differs from the portal's (maps.settings: key by key), so a later
     change of the portal's hours still reaches every worker who did not set that key. */
  function override(w, portal) {
    var out = {};
    ['start', 'end'].forEach(function (k) { if (w[k] && w[k] !== portal[k]) out[k] = w[k]; });
    ['breaks', 'weekdays'].forEach(function (k) { if (JSON.stringify(w[k]) !== JSON.stringify(portal[k])) out[k] = w[k]; });
    return out;
  }

  function workerRow(uid, h, effective) {
    var row = el('fieldset', {'class': 'worker', 'data-worker-row': '', 'data-id': uid ? String(uid) : ''});
    var who = el('strong', {'data-b24app': 'worker-name', text: uid ? (names[uid] || '#' + uid) : ''});
    var legend = el('legend', {}, [S['dispatch.worker'] + ': ', who]);
    row.appendChild(legend);
    if (!uid) {                  // a new row: pick the person first
      legend.appendChild(A.personPicker({name: 'worker_q', results: 'worker-results', onPick: function (u) {
        row.setAttribute('data-id', String(u.id));
        names[String(u.id)] = u.name;
        who.textContent = u.name;
      }}));
    }
    row.appendChild(field(S['dispatch.home'], el('input', {name: 'home_address', value: ((stored.home_addresses || {})[uid]) || '',
                                                          placeholder: S['dispatch.home_placeholder']})));
    var home = (stored.homes || {})[uid];
    if (home) row.appendChild(el('p', {'class': 'note', 'data-b24app': 'home-point', text: S['dispatch.home_found'] + ' ' + home[0] + ', ' + home[1]}));
    row.appendChild(hoursBlock('w' + Math.random().toString(36).slice(2, 8) + '_', Object.assign({}, effective || {}, h || {}), true));
    row.appendChild(el('button', {type: 'button', text: S['dispatch.remove'], on: {click: function () { row.remove(); A.fit(); }}}));
    return row;
  }

  function teamBox(t) {
    var chips = el('span', {'class': 'chips', 'data-b24app': 'team-' + t});
    ((stored.teams || {})[t] || []).forEach(function (uid) { chips.appendChild(A.chip({id: uid, name: names[String(uid)] || '#' + uid})); });
    var picker = A.personPicker({name: 'team_q_' + t, results: 'team-results-' + t, onPick: function (u) {
      if (!chips.querySelector('[data-id="' + u.id + '"]')) chips.appendChild(A.chip(u));
    }});
    return field(S['dispatch.team.' + t], el('span', {'class': 'team'}, [chips, picker]));
  }

  function render(view) {
    stored = view.settings || {};
    names = view.names || {};
    form.textContent = '';
    form.appendChild(el('h3', {text: S['dispatch.title']}));
    form.appendChild(field(S['dispatch.tz'], el('input', {name: 'tz', value: stored.tz || view.tz || 'Europe/Moscow'})));
    form.appendChild(el('h4', {text: S['dispatch.hours']}));
    form.appendChild(hoursBlock('p_', Object.assign({}, view.hours || {}, stored.hours || {}), false));
    form.appendChild(el('h4', {text: S['dispatch.workers']}));
    var rows = el('div', {'data-b24app': 'worker-rows'});
    var shown = Object.keys(stored.worker_hours || {});
    Object.keys(stored.home_addresses || {}).forEach(function (uid) { if (shown.indexOf(uid) < 0) shown.push(uid); });
    shown.forEach(function (uid) {
      rows.appendChild(workerRow(uid, stored.worker_hours[uid], (view.worker_hours || {})[uid]));
    });
    form.appendChild(rows);
    form.appendChild(el('button', {type: 'button', 'data-b24app': 'add-worker', text: S['dispatch.add_worker'],
      on: {click: function () { rows.appendChild(workerRow('', null, readHours(form.querySelector('[data-hours=p_]')))); A.fit(); }}}));
    form.appendChild(el('h4', {text: S['dispatch.teams']}));
    TEAMS.forEach(function (t) { form.appendChild(teamBox(t)); });
    form.appendChild(el('h4', {text: S['dispatch.handoff']}));
    var when = el('select', {name: 'handoff'});
    ['ready', 'paid', 'off'].forEach(function (k) {
      when.appendChild(el('option', {value: k, text: S['dispatch.handoff.' + k], selected: ((stored.handoff || {}).when || 'ready') === k}));
    });
    form.appendChild(field(S['dispatch.handoff_when'], when));
    form.appendChild(el('div', {'class': 'actions'}, [el('button', {type: 'submit', text: S['save']})]));
    form.appendChild(el('div', {'class': 'msg', 'data-b24app': 'msg-dispatch'}));
    A.fit();
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var msg = form.querySelector('[data-b24app=msg-dispatch]');
    var doc = JSON.parse(JSON.stringify(stored));
    doc.tz = form.querySelector('[name=tz]').value.trim();
    doc.hours = readHours(form.querySelector('[data-hours=p_]'));
    var wh = {}, addr = {};
    form.querySelectorAll('[data-worker-row]').forEach(function (row) {
      var uid = row.getAttribute('data-id');
      if (!uid) return;                          // a row whose person was never picked
      wh[uid] = override(readHours(row.querySelector('[data-hours]')), doc.hours);
      var a = row.querySelector('[name=home_address]').value.trim();
      /* a cleared address is sent empty, so the server forgets its point too */
      if (a || (stored.home_addresses || {})[uid]) addr[uid] = a;
    });
    doc.worker_hours = wh;
    doc.home_addresses = addr;
    var teams = {};
    TEAMS.forEach(function (t) {
      var v = [];
      form.querySelectorAll('[data-b24app=team-' + t + '] [data-id]').forEach(function (c) { v.push(parseInt(c.getAttribute('data-id'), 10)); });
      if (v.length) teams[t] = v;
    });
    doc.teams = teams;
    doc.handoff = {when: form.querySelector('[name=handoff]').value};
    A.say(msg, 'wait', S['saving']);
    A.api('PUT', '/api/maps/settings', doc).then(function (saved) {
      render(saved);
      A.say(form.querySelector('[data-b24app=msg-dispatch]'), 'good', S['saved']);
    }, function (e) { A.say(msg, 'bad', A.failure(e)); });
  });

  form.textContent = S['loading'];
  A.api('GET', '/api/maps/settings').then(render, function (e) { form.textContent = A.failure(e); });
})();
