/* Parts of the app on this portal (GET/PUT /api/domains): a tick per domain; unticked ones are switched
   off for this portal only (the server keeps the list and refuses names it does not know). */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el;
  var form = document.querySelector('[data-b24app=settings-domains]');
  if (!form) return;

  function render(domains) {
    form.textContent = '';
    form.appendChild(el('h3', {text: S['domains.title']}));
    form.appendChild(el('p', {'class': 'note', text: S['domains.note']}));
    domains.forEach(function (d) {
      var box = el('input', {type: 'checkbox', name: d.name, 'data-domain': d.name});
      box.checked = !!d.enabled;
      form.appendChild(el('label', {'class': 'domain'}, [box, el('strong', {text: ' ' + d.title}),
        el('span', {'class': 'note', text: d.description ? ' — ' + d.description : ''})]));
    });
    form.appendChild(el('button', {type: 'submit', 'data-b24app': 'save-domains', text: S['domains.save']}));
    form.appendChild(el('div', {'class': 'msg', 'data-b24app': 'msg-domains'}));
    A.fit();
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var off = Array.prototype.filter.call(form.querySelectorAll('input[data-domain]'), function (b) { return !b.checked; })
      .map(function (b) { return b.getAttribute('data-domain'); });
    var msg = form.querySelector('[data-b24app=msg-domains]');
    A.say(msg, 'wait', S['saving']);
    A.api('PUT', '/api/domains', {disabled: off}).then(function () {
      A.say(msg, 'good', S['domains.saved']);
    }, function (e) { A.say(msg, 'bad', A.failure(e)); });
  });

  form.textContent = S['loading'];
  A.api('GET', '/api/domains').then(function (body) { render(body.domains || []); },
                                   function (e) { form.textContent = A.failure(e); });
})();
