/* The worker's phone: his day in route order, navigation links, and the taps of each job.
   Every tap becomes an action with an id made here (crypto), put first in a queue kept in localStorage and
   then sent; the queue is sent in order whenever the network is there (on load, on 'online', every 15 s),
   and an action leaves it only when the server answered it (applied, or a replay it already applied) — so
   an action taken offline is sent later, exactly once, and the job's status shows what is still queued.
   Text only through textContent (B24.el). */
(function () {
  'use strict';
  var B24 = window.B24, el = B24.el, t = B24.t, cfg = B24.cfg;
  var KEY = 'b24app.field.queue.' + (cfg.user_id || '');
  var view = document.getElementById('view'), net = document.getElementById('net');
  var queueBadge = document.getElementById('queue'), dayInput = document.querySelector('input[name=day]');
  var data = null, sending = false;

  /* --- the queue ------------------------------------------------------------------------------------- */
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || '[]') || []; } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); showQueue(); }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  function showQueue() {
    var n = load().length;
    queueBadge.hidden = n === 0;
    queueBadge.textContent = sending && navigator.onLine ? t('sending') : t('queued', {n: n});
  }
  function showNet() {
    net.textContent = navigator.onLine ? t('online') : t('offline');
    net.className = 'net' + (navigator.onLine ? '' : ' off');
  }

  function enqueue(item, action, extra) {
    var a = {id: newId(), action: action, kind: item.kind, item: item.id, at: new Date().toISOString()};
    Object.keys(extra || {}).forEach(function (k) { a[k] = extra[k]; });
    var q = load(); q.push(a); save(q);
    render();
    flush();
  }

  function flush() {
    if (sending || !navigator.onLine) { showQueue(); return; }
    var q = load();
    if (!q.length) { showQueue(); return; }
    sending = true; showQueue();
    var a = q[0];
    B24.api('POST', '/api/field/actions', a).then(function (res) {
      drop(a.id);
      if (data) {
        var it = find(a.kind + ':' + a.item);
        if (it && res.job) {
          it.status = res.job.status; it.travel_minutes = res.job.travel_minutes;
          it.on_site_minutes = res.job.on_site_minutes;
          if (a.action === 'photo' || a.action === 'form') it.files = (it.files || 0) + (res.state === 'applied' ? 1 : 0);
        }
      }
      sending = false; render(); flush();
    }, function (err) {
      sending = false;
      if (err && err.status && err.status !== 409 && err.status < 500 && err.status !== 401) {
        drop(a.id);                               /* refused for good: say so, go on with the rest */
        B24.toast(t('refused', {e: err.message}));
        render(); flush();
      } else {
        showQueue();                             /* no network, busy, the portal down: keep it, try later */
      }
    });
  }
  function drop(id) { save(load().filter(function (x) { return x.id !== id; })); }

  /* --- the day --------------------------------------------------------------------------------------- */
  function find(key) {
    return ((data && data.items) || []).filter(function (i) { return i.key === key; })[0];
  }
  var ORDER = {planned: 0, on_way: 1, started: 2, finished: 3};
  function localStatus(item) {
    /* what the phone already did, sent or not: the queue's last tap of this item wins */
    var s = item.status || 'planned', pending = false;
    load().forEach(function (a) {
      if (a.kind + ':' + a.item !== item.key) return;
      if (ORDER[a.action] !== undefined && ORDER[a.action] >= ORDER[s]) { s = a.action; }
      pending = true;
    });
    return {status: s, pending: pending};
  }

  function fileButton(item, action) {
    var input = el('input', {type: 'file', accept: 'image/*', capture: 'environment', 'data-action': action,
      on: {change: function () {
        var f = input.files && input.files[0];
        if (!f) return;
        readPhoto(f, function (file) { enqueue(item, action, {file: file}); });
        input.value = '';
      }}});
    return el('label', {'class': 'file'}, t(action), input);
  }

  function readPhoto(file, done) {
    /* a camera's 4–12 MB photo is scaled to 1600 px JPEG; a small picture goes as it is */
    var rd = new FileReader();
    rd.onload = function () {
      var raw = {name: file.name || 'photo.jpg', content: String(rd.result).split(',')[1] || ''};
      if (file.size <= 600 * 1024) return done(raw);
      var img = new Image();
      img.onload = function () {
        var k = Math.min(1, 1600 / Math.max(img.width, img.height)), c = document.createElement('canvas');
        c.width = Math.round(img.width * k); c.height = Math.round(img.height * k);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        done({name: (file.name || 'photo').replace(/\.[^.]*$/, '') + '.jpg',
              content: c.toDataURL('image/jpeg', 0.8).split(',')[1]});
      };
      img.onerror = function () { done(raw); };
      img.src = rd.result;
    };
    rd.readAsDataURL(file);
  }

  function position(done) {
    if (!navigator.geolocation) return done({});
    var called = false;
    function once(v) { if (!called) { called = true; done(v); } }
    setTimeout(function () { once({}); }, 6000);
    navigator.geolocation.getCurrentPosition(function (p) {
      once({lat: p.coords.latitude, lon: p.coords.longitude});
    }, function () { once({}); }, {timeout: 5000, maximumAge: 60000});
  }

  function card(item) {
    var st = localStatus(item), links = item.links || {}, acts = item.actions || [];
    var badge = el('span', {'class': 'badge ' + st.status + (st.pending ? ' pending' : ''), 'data-b24app': 'status',
                            'data-status': st.status, 'data-pending': st.pending ? '1' : '0'},
                   t('status.' + st.status) + (st.pending ? ' · ' + t('queued', {n: pendingOf(item)}) : ''));
    var facts = [];
    if (item.travel_minutes !== null && item.travel_minutes !== undefined) facts.push(t('travel', {n: item.travel_minutes}));
    if (item.on_site_minutes !== null && item.on_site_minutes !== undefined) facts.push(t('on_site', {n: item.on_site_minutes}));
    if (item.files) facts.push(t('files', {n: item.files}));
    var buttons = [];
    ['on_way', 'started', 'finished', 'check_in', 'check_out'].forEach(function (a) {
      if (acts.indexOf(a) < 0) return;
      if (ORDER[a] !== undefined && ORDER[a] <= ORDER[st.status]) return;     /* a step already taken */
      buttons.push(el('button', {type: 'button', 'data-action': a, 'class': a === next(st.status, acts) ? 'primary' : '',
        on: {click: function () {
          if (a === 'check_in' || a === 'check_out') position(function (p) { enqueue(item, a, p); });
          else enqueue(item, a);
        }}}, t(a)));
    });
    ['photo', 'form'].forEach(function (a) { if (acts.indexOf(a) >= 0) buttons.push(fileButton(item, a)); });
    var note = el('textarea', {name: 'comment', placeholder: t('comment_ph'), 'aria-label': t('comment')});
    var nav = ['yandex', 'navigator', 'google'].filter(function (k) { return links[k]; }).map(function (k) {
      return el('a', {href: links[k], target: '_blank', rel: 'noopener', 'data-b24app': 'nav-' + k}, t(k));
    });
    return el('section', {'class': 'card item' + (cfg.focus === item.key ? ' focus' : ''), 'data-b24app': 'item',
                          'data-key': item.key},
      el('h2', null, (item.time ? item.time + ' · ' : '') + item.title),
      cfg.focus === item.key ? el('div', {'class': 'meta'}, t('focus')) : null,
      el('div', {'class': 'meta'}, t(item.kind) + (item.client && item.client !== item.title ? ' · ' + item.client : '')),
      item.address ? el('div', {'class': 'meta'}, item.address) : null,
      el('div', null, badge, facts.length ? el('span', {'class': 'meta', 'data-b24app': 'facts'}, ' ' + facts.join(' · ')) : null),
      nav.length ? el('div', {'class': 'nav'}, nav) : null,
      el('div', {'class': 'acts'}, buttons),
      acts.indexOf('comment') >= 0 ? el('div', {'class': 'note'}, note, el('button', {type: 'button', 'data-action': 'comment',
        on: {click: function () {
          var text = note.value.trim();
          if (!text) return;
          enqueue(item, 'comment', {comment: text});
        }}}, t('send'))) : null);
  }
  function pendingOf(item) {
    return load().filter(function (a) { return a.kind + ':' + a.item === item.key; }).length;
  }
  function next(status, acts) {
    var order = ['on_way', 'started', 'finished'].filter(function (a) { return acts.indexOf(a) >= 0; });
    var i = order.indexOf(status);
    return status === 'planned' ? order[0] : order[i + 1];
  }

  function render() {
    showQueue(); showNet();
    if (!data) return;
    var items = data.items.slice();
    if (cfg.focus) items.sort(function (a, b) { return (b.key === cfg.focus) - (a.key === cfg.focus); });
    var route = [];
    (data.route.yandex || []).forEach(function (u, i) {
      route.push(el('a', {href: u, target: '_blank', rel: 'noopener', 'data-b24app': 'route-yandex'},
                    t('yandex') + (data.route.yandex.length > 1 ? ' ' + (i + 1) : '')));
    });
    (data.route.google || []).forEach(function (u, i) {
      route.push(el('a', {href: u, target: '_blank', rel: 'noopener', 'data-b24app': 'route-google'},
                    t('google') + (data.route.google.length > 1 ? ' ' + (i + 1) : '')));
    });
    var nodes = [];                              /* replaceChildren takes nodes, not an array of them */
    if (route.length) nodes.push(el('div', null, el('h3', null, t('route')), el('div', {'class': 'route'}, route)));
    if (items.length) items.forEach(function (i) { nodes.push(card(i)); });
    else nodes.push(el('p', {'class': 'muted', 'data-b24app': 'empty'}, t('empty')));
    view.replaceChildren.apply(view, nodes);
    view.setAttribute('data-ready', '1');
    B24.fit();
  }

  function open(day) {
    var q = day ? '?date=' + encodeURIComponent(day) : '';
    return B24.api('GET', '/api/field/day' + q).then(function (d) {
      data = d; dayInput.value = d.date; render(); flush();
    }, function (e) {
      if (data) { B24.toast(e.message); return; }
      view.replaceChildren(el('p', {'class': 'bad', 'data-b24app': 'error'}, e.message));
    });
  }

  dayInput.addEventListener('change', function () { if (dayInput.value) open(dayInput.value); });
  window.addEventListener('online', function () { showNet(); if (data) flush(); else open(dayInput.value); });
  window.addEventListener('offline', function () { showNet(); showQueue(); });
  setInterval(flush, 15000);
  B24.fit.watch(view);
  showNet(); showQueue();
  open();
})();
