/* Orders map: current jobs as markers (clustered), filters, popup, candidates and one-click assign
 * (the worker's day, swap preview, date grid, manual pins and moving a placed pin are in dispatch_panels.js).
 * Every portal string goes into the DOM through textContent — never innerHTML with data.
 * The map keeps working without tiles (offline, blocked OSM): markers are drawn by us, not the tiles.
 * Fresh data: GET /api/maps/jobs?since=<version> every few seconds and on focus; the server answers
 * {unchanged: true} until something on this portal's map changed. */
(function () {
  'use strict';
  var cfg = B24.cfg, S = B24.s, el = B24.el, api = B24.api;
  var state = {version: null, rows: [], byId: {}, markers: {}, workers: {}, selected: null, loading: false};
  window.b24map = state;      // tests and the console look here

  function status(text) { B24.say(document.getElementById('status'), text); }

  // --- map -----------------------------------------------------------------------------------
  var map = L.map('map', {preferCanvas: true}).setView([55.751, 37.618], 10);
  var tileErrors = 0, tileLoads = 0;
  var tiles = L.tileLayer(cfg.tiles, {maxZoom: 19, attribution: '&copy; OpenStreetMap'});
  tiles.on('tileerror', function () {
    tileErrors += 1;
    if (!tileLoads) document.getElementById('tiles-warning').hidden = false;
  });
  tiles.on('tileload', function () { tileLoads += 1; document.getElementById('tiles-warning').hidden = true; });
  tiles.addTo(map);
  var cluster = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 45, disableClusteringAtZoom: 16});
  map.addLayer(cluster);
  state.map = map; state.cluster = cluster;

  function icon(row) {
    var html = '<span class="b24-pin' + (row.assigned ? '' : ' unassigned') + '" style="background:' +
      (/^#[0-9a-fA-F]{3,8}$/.test(row.color) ? row.color : '#888') + '"></span>';
    return L.divIcon({className: 'b24-marker', html: html, iconSize: [14, 14], iconAnchor: [7, 7]});
  }

  // a job's time is the portal's wall clock ("2026-01-01T09:00"): shown in the page's locale, never as ISO
  function fmtTime(t) {
    if (!t) return S.no_time;
    return B24.i18n.date(t, {day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit'});
  }

  function today() {
    var d = new Date(), p = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }
  // the day a job is looked at: its own date, else the date filter, else today
  function dayOf(row) {
    return (row && row.time && row.time.slice(0, 10)) || document.getElementById('f-date').value || today();
  }

  function stageName(row) {
    var st = cfg.stages[row.pipeline + ':' + row.stage];
    return st ? st.pipeline + ' · ' + st.name : row.pipeline;
  }

  function popupFor(row) {
    var box = el('div', {'class': 'b24-popup', 'data-deal-id': row.id});
    box.appendChild(el('strong', null, row.title));
    var dl = el('dl');
    [[S.stage, stageName(row)], [S.client, row.client], [S.address, row.address], [S.time, fmtTime(row.time)],
     [S.worker, row.worker ? (state.workers[String(row.worker)] || ('#' + row.worker)) : S.unassigned]]
      .forEach(function (p) { dl.appendChild(el('dt', null, p[0])); dl.appendChild(el('dd', null, p[1] || '—')); });
    box.appendChild(dl);
    var open = el('a', {href: '#', 'data-b24app': 'open-deal'}, S.open_deal);
    open.addEventListener('click', function (ev) {
      ev.preventDefault();
      if (window.BX24 && BX24.openPath) BX24.openPath('/crm/deal/details/' + row.id + '/');
    });
    box.appendChild(open);
    box.appendChild(el('br'));
    var P = state.panels || {};
    function button(code, text, fn) {
      var b = el('button', {type: 'button', 'data-b24app': code}, text);
      b.addEventListener('click', fn);
      box.appendChild(b);
    }
    // what the person's app role allows (the server checks it again on every call)
    var can = cfg.can || {};
    if (can.dispatch) {
      button('pick', row.worker ? S.reassign : S.pick, function () { showCandidates(row.id); });
      button('pick-date', S.pick_date, function () { P.showGrid(row.id); });
    }
    if (row.worker && (can['jobs.all'] || row.worker === cfg.user_id)) {
      button('worker-day', S.worker_day, function () { P.showDay(row.worker, dayOf(row)); });
    }
    // the geocoder put it in the wrong place: a manual pin for this address wins from now on
    if (can.dispatch) button('move-pin', S.move_pin, function () { map.closePopup(); P.movePin(row); });
    return box;
  }

  function toRows(doc) {
    var cols = doc.columns;
    return doc.rows.map(function (r) {
      var o = {};
      for (var i = 0; i < cols.length; i++) o[cols[i]] = r[i];
      return o;
    });
  }

  function draw(doc) {
    var open = null;       // a redraw (someone else changed the map) must not close the popup being read
    var el0 = document.querySelector('.leaflet-popup .b24-popup');
    if (el0) open = el0.getAttribute('data-deal-id');
    state.version = doc.version;
    state.workers = doc.workers || {};
    state.rows = toRows(doc);
    state.byId = {};
    state.markers = {};
    cluster.clearLayers();
    var layers = [];
    state.rows.forEach(function (row) {
      state.byId[row.id] = row;
      var m = L.marker([row.lat, row.lon], {icon: icon(row), title: row.title});
      m.bindPopup(function () { return popupFor(row); });
      m.dealId = row.id;
      state.markers[row.id] = m;
      layers.push(m);
    });
    cluster.addLayers(layers);
    fillWorkers(doc.workers || {});
    var c = document.getElementById('count');
    c.textContent = S.jobs + ': ' + state.rows.length;
    c.setAttribute('data-count', String(state.rows.length));
    var u = document.getElementById('unplaced-open'), nu = (doc.unplaced || []).length;
    u.hidden = !nu || !(cfg.can || {}).dispatch;
    u.textContent = S.unplaced + ': ' + nu;
    u.setAttribute('data-count', String(nu));
    document.body.setAttribute('data-version', String(doc.version));
    drawLegend();
    if (!state.fitted && layers.length) { map.fitBounds(cluster.getBounds(), {maxZoom: 14}); state.fitted = true; }
    if (open && state.byId[open]) focusJob(open, false);
  }

  // --- legend: what a marker's colour says (the stages on the map now, and "unassigned") ----------
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () {
    var box = el('div', {'class': 'b24-legend', 'data-b24app': 'legend'});
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  legend.addTo(map);
  function drawLegend() {
    var box = document.querySelector('[data-b24app=legend]'), seen = {}, items = [];
    if (!box) return;
    box.textContent = '';
    box.appendChild(el('strong', null, S.legend));
    if (state.rows.some(function (r) { return !r.assigned; })) items.push(['', '#E53935', S.unassigned, true]);
    state.rows.forEach(function (r) {
      var key = r.pipeline + ':' + r.stage, st = cfg.stages[key];
      if (!r.assigned || seen[key] || !st) return;
      seen[key] = 1;
      items.push([key, r.color, st.pipeline + ' · ' + st.name, false]);
    });
    items.forEach(function (it) {
      var dot = el('span', {'class': 'b24-pin' + (it[3] ? ' unassigned' : '')});
      dot.style.background = /^#[0-9a-fA-F]{3,8}$/.test(it[1]) ? it[1] : '#888';
      box.appendChild(el('div', {'class': 'item', 'data-stage': it[0] || 'unassigned'}, dot, el('span', null, it[2])));
    });
  }

  // A popup of its own at the job's place: does not depend on the cluster having split yet.
  function focusJob(id, zoom) {
    var row = state.byId[id];
    if (!row) return;
    if (zoom) map.setView([row.lat, row.lon], 17, {animate: false});
    L.popup({offset: [0, -4]}).setLatLng([row.lat, row.lon]).setContent(popupFor(row)).openOn(map);
  }
  state.focusJob = focusJob;

  function filters() {
    var q = [];
    ['date', 'pipeline', 'stage', 'worker'].forEach(function (k) {
      var v = document.getElementById('f-' + k).value;
      if (v) q.push(k + '=' + encodeURIComponent(v));
    });
    return q;
  }

  function load(force) {
    if (state.loading) return Promise.resolve();
    state.loading = true;
    var q = filters();
    if (!force && state.version !== null) q.push('since=' + state.version);
    return api('GET', '/api/maps/jobs' + (q.length ? '?' + q.join('&') : '')).then(function (doc) {
      if (!doc.unchanged) draw(doc);
      // a reload clears only its own earlier failure, never what an action just said ("Назначено…")
      if (state.loadFailed) { status(''); state.loadFailed = false; }
    }).catch(function (e) { status(S.failed + ': ' + e.message); state.loadFailed = true; })
      .then(function () { state.loading = false; });
  }
  state.reload = function () { return load(true); };

  // --- filters ---------------------------------------------------------------------------------
  function fillFilters() {
    var pipes = {}, ps = document.getElementById('f-pipeline'), ss = document.getElementById('f-stage');
    Object.keys(cfg.stages).forEach(function (k) {
      var p = k.split(':')[0];
      if (!pipes[p]) { pipes[p] = 1; ps.appendChild(el('option', {value: p}, cfg.stages[k].pipeline)); }
      ss.appendChild(el('option', {value: k.split(':')[1], 'data-pipeline': p},
        cfg.stages[k].pipeline + ' · ' + cfg.stages[k].name));
    });
    ['f-date', 'f-pipeline', 'f-stage', 'f-worker'].forEach(function (id) {
      document.getElementById(id).addEventListener('change', function () { state.fitted = false; load(true); });
    });
  }

  function fillWorkers(workers) {
    var ws = document.getElementById('f-worker');
    Object.keys(workers).forEach(function (id) {
      if (ws.querySelector('option[value="' + id.replace(/[^0-9]/g, '') + '"]')) return;
      ws.appendChild(el('option', {value: id}, workers[id]));
    });
  }

  // --- candidates and assign ---------------------------------------------------------------------
  function showCandidates(dealId) {
    var side = document.getElementById('side'), list = document.getElementById('cands');
    side.hidden = false;
    state.selected = dealId;
    var row = state.byId[dealId] || {title: '#' + dealId};
    document.getElementById('side-title').textContent = row.title;
    document.getElementById('side-job').textContent = [row.client, row.address, fmtTime(row.time)]
      .filter(Boolean).join(' · ');
    if (state.panels) state.panels.clear();
    list.textContent = '';
    list.appendChild(el('li', null, S.loading));
    var day = document.getElementById('f-date').value;   // a job with no time is ranked for the chosen date
    return api('GET', '/api/maps/candidates/' + dealId + (day ? '?date=' + encodeURIComponent(day) : ''))
      .then(function (res) {
      list.textContent = '';
      list.setAttribute('data-day', res.day);
      var assigned = res.job && res.job.worker_id;
      res.candidates.forEach(function (c) {
        var li = el('li', {'class': (c.fits ? 'fits' : 'nofit') + (c.current ? ' current' : ''),
                           'data-worker-id': c.worker_id});
        li.appendChild(el('strong', null, c.name));
        li.appendChild(el('span', {'class': 'reason'}, c.reason));
        var dayBtn = el('button', {type: 'button', 'data-b24app': 'candidate-day'}, S.day);
        dayBtn.addEventListener('click', function () { state.panels.showDay(c.worker_id, res.day); });
        li.appendChild(dayBtn);
        if (assigned && !c.current) {
          var sw = el('button', {type: 'button', 'data-b24app': 'swap'}, S.swap_preview);
          sw.addEventListener('click', function () { state.panels.showSwap(dealId, c.worker_id); });
          li.appendChild(sw);
        } else if (c.fits && !c.current) {
          var b = el('button', {type: 'button', 'data-b24app': 'assign'}, S.assign);
          b.addEventListener('click', function () {
            doAssign(dealId, c.worker_id, b, res.job && res.job.time ? null : c.arrival);
          });
          li.appendChild(b);
        } else if (!c.fits && !c.current && res.job && res.job.time && c.reason.indexOf(S.day_off) < 0) {
          // busy at the agreed time: the server refuses, and asks the dispatcher to confirm an override
          var anyway = el('button', {type: 'button', 'data-b24app': 'assign-anyway'}, S.assign_anyway);
          anyway.addEventListener('click', function () { doAssign(dealId, c.worker_id, anyway, null); });
          li.appendChild(anyway);
        }
        list.appendChild(li);
      });
    }).catch(function (e) { list.textContent = ''; list.appendChild(el('li', null, S.failed + ': ' + e.message)); });
  }
  state.showCandidates = showCandidates;

  /* POST /api/maps/assign under the booking rules: a busy worker (409 WORKER_BUSY) is booked only when
     the dispatcher confirms the override, which the server then records on the deal; the past and
     outside working hours are refused outright (the server's words, in the portal's language). */
  function assignJob(body) {
    return api('POST', '/api/maps/assign', body).catch(function (e) {
      if (!(e.body && e.body.error === 'WORKER_BUSY') || body.override) throw e;
      if (!window.confirm(e.message + '\n\n' + S.override_confirm)) {
        var no = new Error(S.override_cancelled); no.cancelled = true; throw no;
      }
      var again = {};
      Object.keys(body).forEach(function (k) { again[k] = body[k]; });
      again.override = true;
      return api('POST', '/api/maps/assign', again);
    });
  }
  state.assignJob = assignJob;

  function doAssign(dealId, workerId, button, start) {
    button.disabled = true;
    var body = {deal_id: dealId, worker_id: workerId};
    if (start) body.start = start;
    return assignJob(body).then(function (res) {
      status((res.override ? S.assigned_override : S.assigned_ok) + ': ' + res.worker + ', ' +
             fmtTime(res.start.slice(0, 16)));
      document.getElementById('side').setAttribute('data-assigned', String(workerId));
      map.closePopup();
      return load(true);
    }).catch(function (e) { button.disabled = false; status(e.cancelled ? e.message : S.failed + ': ' + e.message); });
  }

  document.getElementById('side-close').addEventListener('click', function () {
    document.getElementById('side').hidden = true;
    if (state.panels) state.panels.clear();
  });

  // what dispatch_panels.js builds on
  state.cfg = cfg; state.status = status; state.dayOf = dayOf;
  state.fmtTime = fmtTime; state.today = today;

  // --- start -----------------------------------------------------------------------------------
  fillFilters();
  state.panels = window.b24mapPanels ? window.b24mapPanels(state) : null;    // dispatch_panels.js
  if (state.panels) state.panels.init();
  load(true).then(function () {
    if (cfg.deal_id) {
      focusJob(cfg.deal_id, true);
      showCandidates(cfg.deal_id);
    }
  });
  setInterval(function () { if (!document.hidden) load(false); }, Math.max(2, cfg.poll || 5) * 1000);
  window.addEventListener('focus', function () { load(false); });
})();
