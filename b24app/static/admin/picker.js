/* A person picker: search by name as you type (GET /api/access/users?q=), pick from the answers. Numeric
   ids never appear on screen; the caller gets {id, name, position} and keeps the id in a data attribute.
   Used by the roles card, the dispatch card (workers, teams) and anything else that names people.

   A.personPicker({name: 'user_q', results: 'user-results', onPick: function (u) {...}}) -> element */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el;

  function personPicker(opts) {
    var seq = 0, timer = null;
    var box = el('ul', {'class': 'user-results', 'data-b24app': opts.results || 'user-results'});
    var q = el('input', {type: 'search', name: opts.name || 'user_q', autocomplete: 'off',
                         placeholder: opts.placeholder || S['roles.find_placeholder']});

    function pick(u) {
      opts.onPick(u);
      q.value = '';
      box.textContent = '';
      box.removeAttribute('data-q');
      A.fit();
    }

    function search(text) {
      var mine = ++seq;
      box.removeAttribute('data-q');
      box.textContent = '';
      if (!text) { A.fit(); return; }
      box.appendChild(el('li', {'class': 'note', text: S['roles.searching']}));
      A.api('GET', '/api/access/users?q=' + encodeURIComponent(text)).then(function (body) {
        return {users: body.users || [], more: !!body.more};
      }, function (e) { return {error: e}; }).then(function (r) {
        if (mine !== seq) return;                // a later keystroke has its own answer coming
        box.textContent = '';
        box.setAttribute('data-q', text);        // the question these answers belong to
        if (r.error) { box.appendChild(el('li', {'class': 'bad', text: A.failure(r.error)})); A.fit(); return; }
        if (!r.users.length) box.appendChild(el('li', {'class': 'note', text: S['roles.no_match']}));
        r.users.forEach(function (u) {
          box.appendChild(el('li', {}, [el('button', {type: 'button', 'data-user-id': String(u.id),
                                                      on: {click: function () { pick(u); }}},
            [el('span', {text: u.name}), u.position ? el('span', {'class': 'note', text: ' — ' + u.position}) : null])]));
        });
        if (r.more) box.appendChild(el('li', {'class': 'note', 'data-b24app': 'more', text: S['picker.more']}));
        A.fit();
      });
    }

    q.addEventListener('input', function () {
      clearTimeout(timer);
      var v = q.value.trim();
      timer = setTimeout(function () { search(v); }, 250);
    });
    /* Enter must not submit the surrounding form: it searches now, and picks the one person found */
    q.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      var found = box.querySelectorAll('button[data-user-id]');
      if (found.length === 1 && box.getAttribute('data-q') === q.value.trim()) { found[0].click(); return; }
      clearTimeout(timer);
      search(q.value.trim());
    });
    return el('span', {'class': 'person-picker'}, [q, box]);
  }

  /* A chip for a picked person: the name, a remove cross; the id in data-id. */
  function chip(u, onRemove) {
    var c = el('span', {'class': 'chip', 'data-id': String(u.id), 'data-b24app': 'chip'}, [el('span', {text: u.name})]);
    c.appendChild(el('button', {type: 'button', 'class': 'chip-x', title: S['dispatch.remove'], text: '×',
                                on: {click: function () { c.remove(); if (onRemove) onRemove(u); A.fit(); }}}));
    return c;
  }

  A.personPicker = personPicker;
  A.chip = chip;
})();
