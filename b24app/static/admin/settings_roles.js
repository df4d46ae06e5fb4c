/* App roles: GET/PUT /api/access/roles. The administrator picks people by name (search as you type,
   GET /api/access/users?q=) and departments from a list (GET /api/access/departments), ticks roles and
   saves the whole document; the server validates it and its 400 words are shown under the form. Numeric
   ids never appear on screen: rows keep them in data attributes. */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el, field = A.field;
  var form = document.querySelector('[data-b24app=settings-roles]');
  if (!form) return;
  var roleList = [];            // [{key, name}] in the page's language, from the server
  var departments = null;       // [{id, name}] once loaded, or a failure text

  function rowsBox() { return form.querySelector('[data-b24app=roles-rows]'); }

  function roleRow(kind, id, name, held) {
    var ticks = el('span', {'class': 'role-ticks'});
    roleList.forEach(function (r) {
      ticks.appendChild(el('label', {}, [el('input', {type: 'checkbox', name: 'role', value: r.key,
                                                      checked: held.indexOf(r.key) >= 0}), ' ' + r.name]));
    });
    var row = el('div', {'class': 'role-row', 'data-role-row': '', 'data-kind': kind, 'data-id': String(id)}, [
      el('span', {'class': 'kind', text: S['roles.kind.' + kind]}),
      el('strong', {'class': 'name', 'data-b24app': 'role-name', text: name}),
      ticks]);
    row.appendChild(el('button', {type: 'button', 'data-b24app': 'remove-role-row', text: S['roles.remove'],
                                  on: {click: function () { row.remove(); showEmpty(); A.fit(); }}}));
    return row;
  }

  function showEmpty() {
    var empty = form.querySelector('[data-b24app=roles-empty]');
    if (empty) empty.hidden = !!rowsBox().querySelector('[data-role-row]');
  }

  /* A person or department already listed is not added twice: the existing row is brought into view. */
  function addRow(kind, id, name) {
    var existing = rowsBox().querySelector('[data-role-row][data-kind=' + kind + '][data-id="' + String(id) + '"]');
    if (existing) { existing.scrollIntoView({block: 'nearest'}); return existing; }
    var row = roleRow(kind, id, name, []);
    rowsBox().appendChild(row);
    showEmpty();
    A.fit();
    return row;
  }

  function departmentPicker() {
    if (typeof departments === 'string') return el('span', {'class': 'bad', text: departments});
    var sel = el('select', {name: 'department'}, [el('option', {value: '', text: S['roles.choose_department']})]);
    (departments || []).forEach(function (d) { sel.appendChild(el('option', {value: String(d.id), text: d.name})); });
    var add = el('button', {type: 'button', 'data-b24app': 'add-department', text: S['roles.add'], on: {click: function () {
      if (!sel.value) return;
      addRow('department', parseInt(sel.value, 10), sel.options[sel.selectedIndex].textContent);
      sel.value = '';
    }}});
    return el('span', {}, [sel, ' ', add]);
  }

  function render(doc) {
    roleList = doc.roles || [];
    form.textContent = '';
    form.appendChild(el('h3', {text: S['roles.title']}));
    form.appendChild(el('p', {'class': 'note', 'data-b24app': 'roles-note', text: S['roles.note']}));
    form.appendChild(el('p', {'class': 'note', text: S['roles.default']}));
    form.appendChild(el('h4', {text: S['roles.help']}));
    var help = el('ul', {'class': 'role-help', 'data-b24app': 'role-help'});
    (A.cfg.role_help || []).forEach(function (h) {
      help.appendChild(el('li', {'data-role': h.key}, [el('strong', {text: h.name}), ' — ' + h.may]));
    });
    form.appendChild(help);
    form.appendChild(el('h4', {text: S['roles.assigned']}));
    var rows = el('div', {'data-b24app': 'roles-rows'});
    (doc.users || []).forEach(function (u) { rows.appendChild(roleRow('user', u.id, u.name, u.roles || [])); });
    (doc.departments || []).forEach(function (d) { rows.appendChild(roleRow('department', d.id, d.name, d.roles || [])); });
    form.appendChild(rows);
    form.appendChild(el('p', {'class': 'note', 'data-b24app': 'roles-empty', text: S['roles.empty']}));
    form.appendChild(el('p', {'class': 'note', text: S['roles.unticked']}));
    form.appendChild(field(S['roles.find_person'], A.personPicker({name: 'user_q', results: 'user-results',
      onPick: function (u) { addRow('user', u.id, u.name); }})));
    form.appendChild(field(S['roles.add_department'], departmentPicker()));
    form.appendChild(el('div', {'class': 'actions'}, [el('button', {type: 'submit', text: S['save']})]));
    form.appendChild(el('div', {'class': 'msg', 'data-b24app': 'msg-roles'}));
    showEmpty();
    A.fit();
  }

  function collect() {
    var doc = {users: {}, departments: {}};
    form.querySelectorAll('[data-role-row]').forEach(function (row) {
      var held = [];
      row.querySelectorAll('[name=role]').forEach(function (c) { if (c.checked) held.push(c.value); });
      doc[row.getAttribute('data-kind') === 'user' ? 'users' : 'departments'][row.getAttribute('data-id')] = held;
    });
    return doc;
  }

  function load() {
    return A.api('GET', '/api/access/roles').then(function (doc) {
      render(doc);
      return true;
    }, function (e) { form.textContent = A.failure(e); return false; });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var msg = form.querySelector('[data-b24app=msg-roles]');
    A.say(msg, 'wait', S['saving']);
    A.api('PUT', '/api/access/roles', collect()).then(function () {
      // the stored document has ids only: read it back with names
      load().then(function (ok) {
        if (ok) A.say(form.querySelector('[data-b24app=msg-roles]'), 'good', S['saved'] + ' ' + S['roles.note']);
      });
    }, function (e) { A.say(msg, 'bad', A.failure(e)); });
  });

  form.textContent = S['loading'];
  // [{id, name}], or the refusal's words in place of the picker
  A.api('GET', '/api/access/departments').then(function (body) { return body.departments || []; }, A.failure)
    .then(function (found) {
      departments = found;
      var slot = form.querySelector('select[name=department]');
      if (slot) slot.parentNode.replaceWith(departmentPicker());     // roles rendered first: fill the picker in
    });
  load();
})();
