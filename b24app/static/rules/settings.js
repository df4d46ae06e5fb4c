/* The deal rules page (LEFT_MENU "Deal rules"): the preset installed with its pipelines and fields in one
   step, each rule switched on/off, the people a rule names picked by name (never typed as ids), the rules
   file downloaded and uploaded (a refused file shows the server's words with the line), the NPS review link.
   Everything goes through /api/rules (administrators only): the server validates, nothing is half-written. */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el, t = B24.i18n.t;
  var state = {doc: null, people: {}, names: {}};
  var status = document.getElementById('status');

  function say(kind, text) { A.say(status, kind, text); }
  function fail(e) { say('bad', A.failure(e)); }
  function lang() { return B24.cfg.lang === 'en' ? 'en' : 'ru'; }
  function words(v) { return v && typeof v === 'object' ? (v[lang()] || v.ru || v.en || '') : String(v || ''); }
  function loaded(tag) { document.body.setAttribute('data-b24app-loaded', tag); }

  function named(id) { return state.names[id] ? '«' + state.names[id] + '»' : id; }

  function when(r) {
    var tr = r.trigger, x = tr.stage || tr.field || tr.past || (tr.at || []).join(', ');
    x = Array.isArray(x) ? x.map(named).join(', ') : (tr.at ? x : named(x));
    return t('e.' + (r.entity || 'deal')) + ': ' + t('t.' + tr.type, {x: x});
  }

  /* every {"user": id} a rule's actions name: [action, key, index|null] so a pick can replace it */
  function userSlots(r) {
    var out = [];
    (r.actions || []).forEach(function (a) {
      ['to', 'auditors', 'accomplices'].forEach(function (k) {
        (a[k] || []).forEach(function (spec, i) { if (spec && spec.user) out.push([a, k, i]); });
      });
      if (a.responsible && a.responsible.user) out.push([a, 'responsible', null]);
    });
    return out;
  }

  function slotGet(s) { return s[2] === null ? s[0][s[1]] : s[0][s[1]][s[2]]; }
  function slotSet(s, v) { if (s[2] === null) s[0][s[1]] = v; else s[0][s[1]][s[2]] = v; }

  function whoCell(r) {
    var td = el('td', {'class': 'who'});
    userSlots(r).forEach(function (s, n) {
      var id = String(slotGet(s).user);
      var name = el('span', {'class': 'chip', 'data-b24app': 'person', text: state.people[id] || '—'});
      var picker = A.personPicker({name: 'person_' + r.id + '_' + n, results: 'results-' + r.id + '-' + n,
                                   placeholder: S['people_hint'],
                                   onPick: function (u) {
                                     slotSet(s, {user: u.id});
                                     state.people[String(u.id)] = u.name;
                                     name.textContent = u.name;
                                   }});
      td.appendChild(el('div', {'class': 'person', 'data-rule': r.id}, [name, picker]));
    });
    return td;
  }

  function renderRules() {
    var box = document.getElementById('rules');
    box.textContent = '';
    var rules = (state.doc && state.doc.rules) || [];
    if (!rules.length) { box.appendChild(el('p', {'class': 'muted', text: S['none']})); return; }
    var body = el('tbody');
    rules.forEach(function (r) {
      body.appendChild(el('tr', {'data-b24app': 'rule', 'data-id': r.id}, [
        el('td', {}, el('input', {type: 'checkbox', 'data-b24app': 'enabled', checked: r.enabled !== false,
                                  'aria-label': S['on'],
                                  on: {change: function (e) { r.enabled = e.target.checked; }}})),
        el('td', {'data-b24app': 'rule-title', text: words(r.title) || r.id}),
        el('td', {'class': 'muted', text: when(r)}),
        whoCell(r)]));
    });
    box.appendChild(el('table', {}, [el('thead', {}, el('tr', {}, [
      el('th', {text: S['on']}), el('th', {text: S['rule']}), el('th', {text: S['when']}), el('th', {text: S['who']})])),
      body]));
  }

  function renderPresets(list) {
    var box = document.getElementById('presets');
    box.textContent = '';
    list.forEach(function (p) {
      box.appendChild(el('p', {'class': 'row'}, [el('span', {text: words(p.title)}),
        el('button', {type: 'button', 'data-b24app': 'install-preset', 'data-name': p.name, text: S['install'],
                      on: {click: function (e) {
                        e.target.disabled = true;
                        say('wait', S['saving']);
                        A.api('POST', '/api/rules/presets/' + encodeURIComponent(p.name), {install_structure: true})
                          .then(function (b) { say('good', t('installed', {n: b.rules})); return load('installed'); },
                                fail).then(function () { e.target.disabled = false; });
                      }}})]));
    });
  }

  function load(tag) {
    return A.api('GET', '/api/rules').then(function (b) {
      state.doc = b.document;
      state.people = b.people || {};
      state.names = b.names || {};
      renderPresets(b.presets || []);
      renderRules();
      document.getElementById('review_url').value = (b.nps || {}).review_url || '';
      loaded(tag + ':' + ((state.doc.rules || []).length));
      A.fit();
    }, function (e) { fail(e); loaded('refused'); });
  }

  document.getElementById('save').addEventListener('click', function () {
    say('wait', S['saving']);
    A.api('PUT', '/api/rules', state.doc).then(function () { say('good', S['saved']); return load('saved'); }, fail);
  });

  document.getElementById('save_nps').addEventListener('click', function () {
    A.api('PUT', '/api/rules/nps', {review_url: document.getElementById('review_url').value.trim()})
      .then(function () { say('good', S['saved']); loaded('nps-saved'); }, fail);
  });

  document.getElementById('export').addEventListener('click', function () {
    B24.api.raw('GET', '/api/rules/export').then(function (r) { return r.blob(); }).then(function (blob) {
      var a = el('a', {href: URL.createObjectURL(blob), download: 'rules.json'});
      document.body.appendChild(a);
      a.click();
      a.remove();
      loaded('exported');
    }, fail);
  });

  /* a file's own text goes as it is (the server names the line of a mistake) — not re-encoded as JSON */
  document.getElementById('import').addEventListener('change', function (e) {
    var file = e.target.files && e.target.files[0];
    if (!file) return;
    file.text().then(function (text) {
      return fetch('/api/rules/import', {method: 'POST', body: text,
                                         headers: {'X-B24App-Session': B24.cfg.session || '',
                                                   'Content-Type': 'application/json'}});
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        e.target.value = '';
        if (!r.ok) { say('bad', (b && (b.error_description || b.error)) || ('HTTP ' + r.status)); loaded('import-refused'); return; }
        say('good', t('imported', {n: b.rules}));
        return load('imported');
      });
    }, fail);
  });

  load('first');
})();
