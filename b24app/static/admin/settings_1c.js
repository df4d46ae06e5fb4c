/* 1C connection settings: GET/POST /api/1c/settings (the password is never shown back), "check
   connection" (POST /api/1c/check), push secret rotation (shown once), the last sync and the review list. */
(function () {
  'use strict';
  var A = window.B24Admin, S = A.s, el = A.el, field = A.field;
  var form = document.querySelector('[data-b24app=settings-1c]');
  if (!form) return;

  function input(name, value, type) { return el('input', {name: name, type: type || 'text', value: value == null ? '' : String(value)}); }

  function reviewItem(it) {
    var d = it.detail || {};
    var reason = it.reason || '';
    var facts = [];
    if (d.order_number) facts.push(S['1c.review.order'] + ' ' + d.order_number + (d.order_date ? ' (' + String(d.order_date).slice(0, 10) + ')' : ''));
    if (d.number) facts.push(S['1c.review.payment'] + ' ' + d.number + (d.amount ? ', ' + d.amount : ''));
    if (d.deals && d.deals.length) facts.push(S['1c.review.deals'] + ': ' + d.deals.map(function (x) { return '#' + x; }).join(', '));
    if (d.count != null) facts.push(S['1c.review.count'] + ': ' + (d.exact === false ? '≥ ' : '') + d.count);
    if (d.paid_1c != null) facts.push(S['1c.review.paid_1c'] + ': ' + d.paid_1c + ', ' + S['1c.review.paid_docs'] + ': ' + d.paid_documents);
    var todo = S['1c.review.' + reason + '.do'] || String(d.why || '');
    var claimed = (reason === 'ambiguous' || reason === 'duplicate') && d.order_key && d.deals && d.deals.length > 1;
    if (claimed && reason === 'ambiguous') todo = S['1c.review.ambiguous.do2'];
    var li = el('li', {'data-reason': reason}, [
      el('strong', {text: S['1c.review.' + reason] || reason}), ' ',
      el('span', {text: facts.join('; ')}),
      el('div', {'class': 'todo', text: todo})
    ]);
    if (claimed) {
      // one deal per order: an administrator binds the order to one of the deals (checked on the server)
      var out = el('div', {'class': 'msg'});
      var buttons = d.deals.filter(function (x) { return x !== d.bound_deal; }).map(function (x) {
        return el('button', {type: 'button', 'data-b24app': 'bind-1c', 'data-deal': String(x),
          text: S['1c.bind'].replace('{id}', String(x)), on: {click: function () {
            A.say(out, 'wait', S['saving']);
            A.api('POST', '/api/1c/review/bind', {order_key: d.order_key, deal_id: x}).then(function (r) {
              A.say(out, 'good', S['1c.bound'].replace('{id}', String(r.deal_id)));
            }, function (e) { A.say(out, 'bad', A.failure(e)); });
          }}});
      });
      li.appendChild(el('div', {'class': 'actions'}, buttons));
      li.appendChild(out);
    }
    return li;
  }

  function render(doc, review) {
    var c = doc.connection || {};
    form.textContent = '';
    var msg = el('div', {'class': 'msg', 'data-b24app': 'msg-1c'});
    var profile = el('select', {name: 'profile'});
    (doc.profiles || []).forEach(function (p) {
      // a profile not yet checked on a live base says so in words, not with a developer's "(unverified)"
      var o = el('option', {value: p.name, text: p.verified === false ? p.title + ' — ' + S['1c.profile_check'] : p.title}); if (p.name === (c.profile || 'ut11_5')) o.selected = true; profile.appendChild(o);
    });
    var pw = input('password', '', 'password');
    pw.placeholder = c.password_set ? S['1c.password_keep'] : S['1c.password_none'];
    pw.autocomplete = 'new-password';
    form.appendChild(el('h3', {text: S['1c.title']}));
    [field(S['1c.base_url'], input('base_url', c.base_url, 'url')), field(S['1c.username'], input('username', c.username)),
     field(S['1c.password'], pw), field(S['1c.profile'], profile), field(S['1c.tz'], input('tz', c.tz || 'Europe/Moscow')),
     field(S['1c.interval'], input('interval', c.interval || 600, 'number')),
     field(S['1c.lookback_days'], input('lookback_days', c.lookback_days || 35, 'number')),
     field(S['1c.reconcile_hours'], input('reconcile_hours', c.reconcile_hours || 24, 'number'))].forEach(function (n) { form.appendChild(n); });

    // per-pipeline paid gate and auto-forward
    var gate = doc.gate || {enabled: true, pipelines: null, scope: {}};
    var scopes = gate.scope || {};
    var af = doc.auto_forward || {};
    var gateOn = el('input', {type: 'checkbox', name: 'gate_enabled', checked: gate.enabled !== false});
    var pipes = el('div', {'class': 'pipelines'});
    (doc.pipeline_choices || []).forEach(function (p) {
      var inGate = gate.pipelines == null || gate.pipelines.indexOf(p.key) >= 0;
      var cur = af[p.key] || {};
      var src = Object.keys(cur)[0] || '';
      function stageSelect(name, value, none) {
        var s = el('select', {name: name});
        if (none) s.appendChild(el('option', {value: '', text: S['1c.af_none']}));
        p.stages.forEach(function (st) { var o = el('option', {value: st.key, text: st.name}); if (st.key === value) o.selected = true; s.appendChild(o); });
        return s;
      }
      var scope = el('select', {name: 'gate_scope'});
      ['linked', 'all'].forEach(function (k) {
        var o = el('option', {value: k, text: S['1c.gate_scope.' + k]});
        if ((scopes[p.key] || (gate.all_deals ? 'all' : 'linked')) === k) o.selected = true;
        scope.appendChild(o);
      });
      pipes.appendChild(el('fieldset', {'data-pipeline': p.key}, [
        el('legend', {text: p.name}),
        el('label', {}, [el('input', {type: 'checkbox', name: 'gate_pipeline', checked: inGate}), ' ' + S['1c.gate']]),
        el('div', {}, [S['1c.gate_scope'] + ': ', scope]),
        el('div', {}, [S['1c.auto_forward'] + ': ' + S['1c.af_from'] + ' ', stageSelect('af_from', src, true),
                       ' ' + S['1c.af_to'] + ' ', stageSelect('af_to', src ? cur[src] : '', true)])
      ]));
    });
    form.appendChild(el('h4', {text: S['1c.pipelines']}));
    form.appendChild(el('label', {}, [gateOn, ' ' + S['1c.gate'] + ' — ' + S['1c.gate_enabled']]));
    form.appendChild(pipes);

    var save = el('button', {type: 'submit', text: S['save']});
    var check = el('button', {type: 'button', 'data-b24app': 'check-1c', text: S['1c.check']});
    form.appendChild(el('div', {'class': 'actions'}, [save, check]));
    form.appendChild(msg);

    // last sync
    var st = doc.stats || null;
    form.appendChild(el('h4', {text: S['1c.status']}));
    form.appendChild(el('p', {'data-b24app': 'sync-status'}, [
      S['1c.last_ok'] + ': ' + (doc.last_ok_at ? B24.i18n.date(doc.last_ok_at, {year: 'numeric', month: 'numeric', day: 'numeric',
        hour: 'numeric', minute: 'numeric', second: 'numeric'}) : S['1c.never']),
      st ? el('br') : null,
      st ? S['1c.counts'].replace(/\{(\w+)\}/g, function (_, k) { var v = st[k]; return Array.isArray(v) ? v.length : (v == null ? 0 : v); }) : null,
      doc.last_error ? el('br') : null,
      doc.last_error ? el('span', {'class': 'bad', text: S['1c.last_error'] + ': ' + doc.last_error}) : null
    ]));

    // push secret
    var pushOut = el('div', {'data-b24app': 'push-secret'});
    form.appendChild(el('h4', {text: S['1c.push']}));
    form.appendChild(el('p', {}, [S['1c.push_url'] + ': ', el('code', {'data-b24app': 'push-url', text: doc.push_url || ''})]));
    form.appendChild(el('button', {type: 'button', 'data-b24app': 'rotate-secret', text: S['1c.push_rotate'], on: {click: function () {
      if (!window.confirm(S['1c.push_confirm'])) return;
      A.api('POST', '/api/1c/push-secret').then(function (body) {
        pushOut.textContent = '';
        pushOut.appendChild(el('p', {text: S['1c.push_secret']}));
        pushOut.appendChild(el('code', {'class': 'secret', text: body.secret}));
        pushOut.appendChild(el('p', {}, [S['1c.push_url'] + ': ', el('code', {text: body.push_url})]));
        A.fit();
      }, function (e) { pushOut.textContent = ''; A.say(pushOut, 'bad', A.failure(e)); });
    }}}));
    form.appendChild(pushOut);

    // review list
    var list = el('ul', {'class': 'review', 'data-b24app': 'review-1c'});
    (review || []).forEach(function (it) { list.appendChild(reviewItem(it)); });
    form.appendChild(el('h4', {text: S['1c.review']}));
    form.appendChild(review && review.length ? list : el('p', {'data-b24app': 'review-1c', text: S['1c.review_empty']}));

    check.addEventListener('click', function () {
      A.say(msg, 'wait', S['1c.checking']);
      A.api('POST', '/api/1c/check').then(function (body) {
        if (body.ok) A.say(msg, 'good', S['1c.check_ok'] + (body.hidden ? ' ' + S['1c.check_hidden'].replace('{n}', String(body.hidden)) : ''),
                           body.warnings && body.warnings.length ? body.warnings : undefined);
        else A.say(msg, 'bad', S['1c.check_bad'], body.problems);
      }, function (e) { A.say(msg, 'bad', A.failure(e)); });
    });
    A.fit();
  }

  function body() {
    var v = function (n) { return form.querySelector('[name=' + n + ']').value.trim(); };
    var out = {base_url: v('base_url'), username: v('username'), password: v('password'), profile: v('profile'), tz: v('tz')};
    ['interval', 'lookback_days', 'reconcile_hours'].forEach(function (k) { var x = v(k); out[k] = /^\d+$/.test(x) ? parseInt(x, 10) : x; });
    var sets = form.querySelectorAll('fieldset[data-pipeline]');
    if (sets.length) {
      var inGate = [], af = {}, all = true, scope = {};
      sets.forEach(function (fs) {
        var key = fs.getAttribute('data-pipeline');
        if (fs.querySelector('[name=gate_pipeline]').checked) inGate.push(key); else all = false;
        scope[key] = fs.querySelector('[name=gate_scope]').value;
        var a = fs.querySelector('[name=af_from]').value, b = fs.querySelector('[name=af_to]').value;
        if (a || b) { af[key] = {}; af[key][a || '?'] = b || '?'; }
      });
      out.gate = {enabled: form.querySelector('[name=gate_enabled]').checked, pipelines: all ? null : inGate, scope: scope};
      out.auto_forward = af;
    }
    return out;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var msg = form.querySelector('[data-b24app=msg-1c]');
    A.say(msg, 'wait', S['saving']);
    A.api('POST', '/api/1c/settings', body()).then(function (doc) {
      var pw = form.querySelector('[name=password]');
      pw.value = '';
      if (doc.connection) pw.placeholder = doc.connection.password_set ? S['1c.password_keep'] : S['1c.password_none'];
      if (doc.problems && doc.problems.length) A.say(msg, 'bad', S['1c.saved_problems'], doc.problems);
      else A.say(msg, 'good', S['saved']);
    }, function (e) { A.say(msg, 'bad', A.failure(e)); });
  });

  form.textContent = S['loading'];
  // the review list is a bonus: a refused one shows as empty, the settings themselves must load
  Promise.all([A.api('GET', '/api/1c/settings'),
               A.api('GET', '/api/1c/review').catch(function () { return {items: []}; })]).then(function (rs) {
    render(rs[0], rs[1].items);
  }, function (e) { form.textContent = A.failure(e); });
})();
