/* Visit settings: GET/POST /api/visits/settings — N (repeat_days), M (overdue_days), the visited period,
   the company fields of the map popup (picked from the portal's own crm.company.fields) and where each
   person's day route starts: picked by name, typed as an address (the server geocodes it). */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el, field = A.field;
  var form = document.querySelector('[data-b24app=settings-visits]');
  if (!form) return;

  function render(doc) {
    form.textContent = '';
    form.appendChild(el('h3', {text: S['visits.title']}));
    form.appendChild(field(S['visits.repeat_days'], el('input', {type: 'number', name: 'repeat_days', value: String(doc.repeat_days)})));
    form.appendChild(field(S['visits.overdue_days'], el('input', {type: 'number', name: 'overdue_days', value: String(doc.overdue_days)})));
    form.appendChild(field(S['visits.work_days'], el('input', {type: 'number', name: 'work_days', value: String(doc.work_days)})));
    var p = String(doc.visited_period || 'month'), days = /^\d+d$/.test(p) ? p.slice(0, -1) : '';
    var sel = el('select', {name: 'period'});
    ['month', 'quarter', 'year', 'days'].forEach(function (k) {
      var o = el('option', {value: k, text: S['visits.period.' + k]});
      if (k === p || (k === 'days' && days)) o.selected = true;
      sel.appendChild(o);
    });
    var n = el('input', {type: 'number', name: 'period_days', value: days, placeholder: '30'});
    form.appendChild(field(S['visits.period'], el('span', {}, [sel, ' ', n, ' ' + S['visits.period_days']])));
    var chosen = (doc.popup_fields || []).map(function (f) { return f.code; });
    var box = el('div', {'class': 'popup-fields', 'data-b24app': 'popup-fields'});
    (doc.company_fields || []).forEach(function (f) {
      box.appendChild(el('label', {}, [el('input', {type: 'checkbox', name: 'popup', value: f.code, checked: chosen.indexOf(f.code) >= 0}),
                                      ' ' + f.label]));
    });
    form.appendChild(el('h4', {text: S['visits.popup']}));
    form.appendChild(box);
    form.appendChild(el('h4', {text: S['visits.starts']}));
    var starts = el('div', {'data-b24app': 'route-starts'});
    function startRow(uid, name, address, point) {
      var row = el('div', {'class': 'field', 'data-start-row': '', 'data-id': String(uid)}, [
        el('span', {text: name}), el('input', {name: 'start_address', value: address || '', placeholder: S['dispatch.home_placeholder']}),
        point ? el('span', {'class': 'note', text: point[0] + ', ' + point[1]}) : null]);
      row.appendChild(el('button', {type: 'button', text: S['dispatch.remove'], on: {click: function () {
        row.setAttribute('data-removed', ''); row.hidden = true; A.fit(); }}}));
      return row;
    }
    Object.keys(doc.route_starts || {}).forEach(function (uid) {
      starts.appendChild(startRow(uid, (doc.route_start_names || {})[uid] || '#' + uid, (doc.route_start_addresses || {})[uid],
                                  doc.route_starts[uid]));
    });
    form.appendChild(starts);
    form.appendChild(field(S['visits.starts_add'], A.personPicker({name: 'start_q', results: 'start-results', onPick: function (u) {
      if (!starts.querySelector('[data-start-row][data-id="' + u.id + '"]')) starts.appendChild(startRow(u.id, u.name, '', null));
      A.fit();
    }})));
    form.appendChild(el('div', {'class': 'actions'}, [el('button', {type: 'submit', text: S['save']})]));
    form.appendChild(el('div', {'class': 'msg', 'data-b24app': 'msg-visits'}));
    A.fit();
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var msg = form.querySelector('[data-b24app=msg-visits]');
    var num = function (n) { var v = form.querySelector('[name=' + n + ']').value.trim(); return /^\d+$/.test(v) ? parseInt(v, 10) : v; };
    var period = form.querySelector('[name=period]').value;
    if (period === 'days') period = form.querySelector('[name=period_days]').value.trim() + 'd';
    var popup = [];
    form.querySelectorAll('[name=popup]').forEach(function (c) { if (c.checked) popup.push(c.value); });
    var startsDoc = {};
    form.querySelectorAll('[data-start-row]').forEach(function (row) {
      var a = row.querySelector('[name=start_address]').value.trim();
      if (row.hasAttribute('data-removed')) startsDoc[row.getAttribute('data-id')] = null;
      else if (a) startsDoc[row.getAttribute('data-id')] = a;
    });
    A.say(msg, 'wait', S['saving']);
    A.api('POST', '/api/visits/settings', {repeat_days: num('repeat_days'), overdue_days: num('overdue_days'), work_days: num('work_days'),
                                           visited_period: period, popup_fields: popup, route_starts: startsDoc}).then(function (saved) {
      render(saved);
      A.say(form.querySelector('[data-b24app=msg-visits]'), 'good', S['saved']);
    }, function (e) { A.say(msg, 'bad', A.failure(e)); });
  });

  form.textContent = S['loading'];
  A.api('GET', '/api/visits/settings').then(render, function (e) { form.textContent = A.failure(e); });
})();
