/* Phone links (GET /api/access/phone-links, DELETE /api/access/phone-links/<id>): every link people made
   for their phones, whose it is, when it was made and last opened; "Revoke" stops it at once (the server
   also ends the phone sessions it opened). Dates in the page's language (B24Admin.when). */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el;
  var box = document.querySelector('[data-b24app=phone-links]');
  if (!box) return;

  function revoke(link) {
    if (!window.confirm(S['links.revoke_confirm'])) return;
    var msg = box.querySelector('[data-b24app=msg-links]');
    A.say(msg, 'wait', S['saving']);
    A.api('DELETE', '/api/access/phone-links/' + encodeURIComponent(link.id)).then(function () {
      load().then(function () { A.say(box.querySelector('[data-b24app=msg-links]'), 'good', S['links.revoked_done']); });
    }, function (e) { A.say(box.querySelector('[data-b24app=msg-links]'), 'bad', A.failure(e)); });
  }

  function render(links) {
    box.textContent = '';
    box.appendChild(el('h3', {text: S['links.title']}));
    box.appendChild(el('p', {'class': 'note', text: S['links.note']}));
    if (!links.length) {
      box.appendChild(el('p', {'class': 'note', 'data-b24app': 'links-empty', text: S['links.empty']}));
    } else {
      var head = el('tr', {}, ['links.person', 'links.label', 'links.created', 'links.last_used', 'links.state', null]
        .map(function (k) { return el('th', {text: k ? S[k] : ''}); }));
      var body = el('tbody');
      links.forEach(function (l) {
        body.appendChild(el('tr', {'data-link-id': l.id, 'data-state': l.revoked ? 'revoked' : 'active'}, [
          el('td', {'data-col': 'person', text: l.user || ''}),
          el('td', {'data-col': 'label', text: l.label || ''}),
          el('td', {'data-col': 'created', text: A.when(l.created_at)}),
          el('td', {'data-col': 'last_used', text: l.last_used_at ? A.when(l.last_used_at) : S['links.never']}),
          el('td', {'data-col': 'state', 'class': l.revoked ? 'bad' : 'ok', text: S[l.revoked ? 'links.revoked' : 'links.active']}),
          el('td', {}, [l.revoked ? null : el('button', {type: 'button', 'data-b24app': 'revoke-link', text: S['links.revoke'],
                                                          on: {click: function () { revoke(l); }}})])]));
      });
      box.appendChild(el('table', {'class': 'links', 'data-b24app': 'links-table'}, [el('thead', {}, [head]), body]));
    }
    box.appendChild(el('div', {'class': 'msg', 'data-b24app': 'msg-links'}));
    A.fit();
  }

  function load() {
    return A.api('GET', '/api/access/phone-links').then(function (body) {
      render(body.links || []);
    }, function (e) { box.textContent = A.failure(e); });
  }

  box.textContent = S['loading'];
  load();
})();
