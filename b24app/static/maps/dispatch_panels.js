/* The dispatcher's panels beside the orders map: a worker's day (timeline, free windows, route on the map
 * and links for the phone), the swap preview of both days, the dates × workers grid of the date picker and
 * the list of addresses without coordinates (click one, then click the map or drag the marker) and moving
 * a placed job's pin ("move pin" in its popup, then the same click or drag).
 * Loaded before orders_map.js, which calls window.b24mapPanels(state) with its helpers (status, dayOf …; the kit is B24).
 * Every portal string goes in through textContent or setAttribute — never as HTML. */
(function () {
  'use strict';

  window.b24mapPanels = function (state) {
    var S = B24.s, el = B24.el, api = B24.api, map = state.map;
    var layer = null, placing = null, placeMarker = null;
    var svg = L.svg();          // the route as an SVG path (markers use the canvas): visible to tests and print

    function side(title, sub) {
      var box = document.getElementById('side');
      box.hidden = false;
      document.getElementById('side-title').textContent = title || '';
      document.getElementById('side-job').textContent = sub || '';
      document.getElementById('cands').textContent = '';
      var panel = document.getElementById('panel');
      panel.textContent = '';
      return panel;
    }

    function clear() {
      if (layer) { map.removeLayer(layer); layer = null; }
      stopPlacing();
      document.getElementById('panel').textContent = '';
      ['data-view', 'data-swapped', 'data-scheduled', 'data-pinned'].forEach(function (a) {
        document.getElementById('side').removeAttribute(a);
      });
    }

    function view(name) { document.getElementById('side').setAttribute('data-view', name); }

    function failed(panel, e) { panel.appendChild(el('p', {'class': 'error'}, S.failed + ': ' + e.message)); }

    function hm(s) { var p = String(s).split(':'); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }

    function shiftDay(day, n) {
      var d = new Date(day + 'T12:00:00');
      d.setDate(d.getDate() + n);
      return d.toISOString().slice(0, 10);
    }

    function dm(day) { return day.slice(8, 10) + '.' + day.slice(5, 7); }

    function nav(panel, onPrev, onNext, label) {
      var bar = el('div', {'class': 'nav'});
      var p = el('button', {type: 'button', 'data-b24app': 'prev'}, '‹ ' + S.prev);
      var n = el('button', {type: 'button', 'data-b24app': 'next'}, S.next + ' ›');
      p.addEventListener('click', onPrev); n.addEventListener('click', onNext);
      bar.appendChild(p); bar.appendChild(el('span', null, label)); bar.appendChild(n);
      panel.appendChild(bar);
    }

    // --- worker's day --------------------------------------------------------------------------
    function showDay(workerId, day) {
      day = day || state.today();
      var panel = side(S.worker_day, S.loading);
      view('day');
      if (layer) { map.removeLayer(layer); layer = null; }
      var q = '?worker=' + encodeURIComponent(workerId) + '&date=' + encodeURIComponent(day);
      return Promise.all([api('GET', '/api/maps/worker-day' + q), api('GET', '/api/maps/route' + q)]).then(function (r) {
        var wd = r[0], route = r[1];
        panel = side(wd.name, day);
        view('day');
        var box = el('div', {'class': 'worker-day', 'data-worker-id': wd.worker_id, 'data-day': wd.day});
        panel.appendChild(box);
        nav(box, function () { showDay(workerId, shiftDay(day, -1)); },
            function () { showDay(workerId, shiftDay(day, 1)); }, dm(day));
        box.appendChild(el('div', {'class': 'summary'}, [S.drive + ' ' + wd.drive_minutes + ' ' + S.min,
          wd.late_minutes ? S.late + ' ' + wd.late_minutes + ' ' + S.min : '',
          wd.overtime_minutes ? S.overtime + ' ' + wd.overtime_minutes + ' ' + S.min : ''].filter(Boolean).join(' · ')));
        box.appendChild(timeline(wd));
        box.appendChild(el('h4', null, S.stops));
        var ol = el('ul', {'class': 'stops', 'data-b24app': 'stops'});
        var num = {};             // the stop's number on the map (the driving order of /api/maps/route)
        (route.order || []).forEach(function (id, i) { num[id] = i + 1; });
        if (!wd.stops.length) ol.appendChild(el('li', null, S.no_jobs));
        wd.stops.forEach(function (s) {
          var li = el('li', {'data-deal-id': s.id, 'class': s.late_minutes ? 'late' : ''});
          if (num[s.id]) li.appendChild(el('span', {'class': 'b24-stop-num small'}, String(num[s.id])));
          li.appendChild(el('strong', null, s.start + '–' + s.end + ' '));
          li.appendChild(el('span', {'class': 'title'}, s.title));
          li.appendChild(el('span', {'class': 'meta'}, '+' + s.drive_minutes + ' ' + S.min + ' ' + S.drive +
            (s.late_minutes ? ' · ' + S.late + ' ' + s.late_minutes + ' ' + S.min : '')));
          li.addEventListener('click', function () { state.focusJob(s.id, true); });
          ol.appendChild(li);
        });
        box.appendChild(ol);
        box.appendChild(el('h4', null, S.free_windows));
        var ul = el('ul', {'class': 'windows', 'data-b24app': 'windows'});
        if (!wd.windows.length) ul.appendChild(el('li', null, S.no_windows));
        wd.windows.forEach(function (w) {
          ul.appendChild(el('li', {'data-start': w.start, 'data-end': w.end},
            w.start + '–' + w.end + ' (' + w.minutes + ' ' + S.min + ')'));
        });
        box.appendChild(ul);
        box.appendChild(links(route));
        drawRoute(wd, route);
      }).catch(function (e) { failed(panel, e); });
    }

    function timeline(wd) {
      var lo = 24 * 60, hi = 0;
      wd.hours.forEach(function (h) { lo = Math.min(lo, hm(h[0])); hi = Math.max(hi, hm(h[1])); });
      wd.stops.forEach(function (s) {
        lo = Math.min(lo, hm(s.start) - s.drive_minutes); hi = Math.max(hi, hm(s.end));
      });
      if (hi <= lo) { lo = 8 * 60; hi = 20 * 60; }
      lo = Math.floor(lo / 60) * 60; hi = Math.ceil(hi / 60) * 60;
      var tl = el('div', {'class': 'timeline', 'data-b24app': 'timeline'});
      function bar(a, b, cls, title) {
        a = Math.max(a, lo); b = Math.min(b, hi);
        var d = el('div', {'class': 'tl ' + cls});
        d.style.left = (100 * (a - lo) / (hi - lo)) + '%';
        d.style.width = Math.max(0.5, 100 * (b - a) / (hi - lo)) + '%';
        if (title) d.setAttribute('title', title);
        tl.appendChild(d);
        return d;
      }
      for (var h = lo; h <= hi; h += 60) {
        var t = el('span', {'class': 'tick'}, String(h / 60));
        t.style.left = (100 * (h - lo) / (hi - lo)) + '%';
        tl.appendChild(t);
      }
      wd.hours.forEach(function (x) { bar(hm(x[0]), hm(x[1]), 'tl-shift'); });
      wd.busy.forEach(function (x) {
        bar(hm(x[0].slice(11, 16)), hm(x[1].slice(11, 16)) || hi, 'tl-busy', S.busy);
      });
      wd.windows.forEach(function (w) { bar(hm(w.start), hm(w.end), 'tl-window', S.free_windows + ' ' + w.start + '–' + w.end); });
      wd.stops.forEach(function (s) {
        if (s.drive_minutes) bar(hm(s.start) - s.drive_minutes, hm(s.start), 'tl-drive', S.drive + ' ' + s.drive_minutes + ' ' + S.min);
        var j = bar(hm(s.start), hm(s.end), 'tl-job' + (s.late_minutes ? ' tl-late' : ''), s.start + ' ' + s.title);
        j.setAttribute('data-deal-id', s.id);
      });
      return tl;
    }

    function links(route) {
      var box = el('div', {'class': 'route-links', 'data-b24app': 'route-links'});
      [['yandex', S.open_yandex], ['google', S.open_google]].forEach(function (k) {
        var all = route[k[0]] || [];
        all.forEach(function (href, i) {
          if (!/^https:\/\//.test(href)) return;
          var a = el('a', {href: href, target: '_blank', rel: 'noopener', 'data-b24app': k[0] + '-link'},
            k[1] + (all.length > 1 ? ' (' + S.part + ' ' + (i + 1) + '/' + all.length + ')' : ''));
          box.appendChild(a);
        });
      });
      return box;
    }

    function drawRoute(wd, route) {
      var byId = {};
      wd.stops.forEach(function (s) { byId[s.id] = s; });
      var order = (route.order && route.order.length ? route.order : wd.stops.map(function (s) { return s.id; }))
        .filter(function (id) { return byId[id] && byId[id].lat !== null; });
      if (!order.length) return;
      layer = L.layerGroup();
      var pts = order.map(function (id) { return [byId[id].lat, byId[id].lon]; });
      L.polyline(pts, {color: '#2067b0', weight: 4, opacity: 0.8, className: 'b24-route', renderer: svg}).addTo(layer);
      order.forEach(function (id, i) {
        var num = el('span', {'class': 'b24-stop-num', 'data-deal-id': id}, String(i + 1));
        L.marker(pts[i], {icon: L.divIcon({className: 'b24-stop', html: num, iconSize: [22, 22], iconAnchor: [11, 11]}),
                          zIndexOffset: 1000, title: byId[id].title}).addTo(layer);
      });
      layer.addTo(map);
      map.fitBounds(L.latLngBounds(pts).pad(0.2), {maxZoom: 14, animate: false});
    }

    // --- swap preview ----------------------------------------------------------------------------
    function dayList(title, d) {
      var col = el('div', {'class': 'swap-day ' + (d.ok ? 'ok' : 'clash')});
      col.appendChild(el('h5', null, title + ': ' + d.drive_minutes + ' ' + S.min + ' ' + S.drive + ' · ' +
        (d.ok ? S.ok : S.clash)));
      var ol = el('ol');
      if (!d.stops.length) ol.appendChild(el('li', null, S.no_jobs));
      d.stops.forEach(function (s) {
        var li = el('li', {'data-deal-id': s.id, 'class': (s.moved ? 'moved ' : '') + (s.late_minutes ? 'late' : '')},
          s.start + '–' + s.end + ' ' + s.title);
        if (s.late_minutes) li.appendChild(el('span', {'class': 'meta'}, ' · ' + S.late + ' ' + s.late_minutes + ' ' + S.min));
        ol.appendChild(li);
      });
      col.appendChild(ol);
      return col;
    }

    function showSwap(dealId, toWorker) {
      var panel = side(S.swap_preview, S.loading);
      view('swap');
      return api('GET', '/api/maps/swap?deal=' + encodeURIComponent(dealId) + '&to=' + encodeURIComponent(toWorker))
        .then(function (p) {
          panel = side(p.title, S.swap_preview + ' · ' + dm(p.day) + (p.start ? ' ' + p.start.slice(11, 16) : ''));
          view('swap');
          var box = el('div', {'class': 'swap', 'data-b24app': 'swap-preview', 'data-deal-id': p.deal_id});
          [['from', p.from], ['to', p.to]].forEach(function (side2) {
            var w = el('div', {'class': 'swap-worker', 'data-side': side2[0], 'data-worker-id': side2[1].worker_id});
            w.appendChild(el('h4', null, side2[1].name));
            w.appendChild(dayList(S.before, side2[1].before));
            w.appendChild(dayList(S.after, side2[1].after));
            box.appendChild(w);
          });
          box.appendChild(el('p', {'class': 'summary'}, S.extra_total + ': ' + (p.extra_minutes > 0 ? '+' : '') +
            p.extra_minutes + ' ' + S.min));
          var apply = el('button', {type: 'button', 'data-b24app': 'apply-swap'}, S.apply_swap + ': ' + p.to.name);
          apply.addEventListener('click', function () {
            apply.disabled = true;
            var body = {deal_id: p.deal_id, worker_id: p.to.worker_id};
            if (p.start) body.start = p.start;
            state.assignJob(body).then(function (res) {
              state.status((res.override ? S.assigned_override : S.swapped_ok) + ': ' + res.worker);
              return state.reload().then(function () {
                return showDay(p.to.worker_id, p.day);
              }).then(function () { document.getElementById('side').setAttribute('data-swapped', String(p.to.worker_id)); });
            }).catch(function (e) { apply.disabled = false; failed(panel, e); });
          });
          box.appendChild(apply);
          panel.appendChild(box);
        }).catch(function (e) { failed(panel, e); });
    }

    // --- date picker: dates × workers ------------------------------------------------------------
    function showGrid(dealId, from) {
      var row = state.byId[dealId] || {title: '#' + dealId};
      var panel = side(row.title, S.grid_title + ' · ' + S.loading);
      view('grid');
      from = from || document.getElementById('f-date').value || '';
      return api('GET', '/api/maps/slots/' + encodeURIComponent(dealId) + '?days=7' + (from ? '&from=' + encodeURIComponent(from) : ''))
        .then(function (g) {
          panel = side(row.title, S.grid_title);
          view('grid');
          nav(panel, function () { showGrid(dealId, shiftDay(g.days[0], -7)); },
              function () { showGrid(dealId, shiftDay(g.days[0], 7)); }, dm(g.days[0]) + '–' + dm(g.days[g.days.length - 1]));
          var names = {};
          g.workers.forEach(function (w) { names[w.id] = w.name; });
          panel.appendChild(el('h4', null, S.best_slots));
          var best = el('ol', {'class': 'best', 'data-b24app': 'best-slots'});
          if (!g.best.length) best.appendChild(el('li', null, S.nothing));
          g.best.slice(0, 5).forEach(function (s) {
            var b = el('button', {type: 'button', 'data-worker-id': s.worker_id, 'data-start': s.arrival},
              dm(s.day) + ' ' + s.arrival.slice(11, 16) + ' · ' + s.name + ' · +' + s.extra_minutes + ' ' + S.min);
            b.addEventListener('click', function () { book(dealId, s.worker_id, s.arrival, b); });
            var li = el('li'); li.appendChild(b); best.appendChild(li);
          });
          panel.appendChild(best);
          panel.appendChild(table(dealId, g, names));
        }).catch(function (e) { failed(panel, e); });
    }

    function table(dealId, g, names) {
      var t = el('table', {id: 'slot-grid', 'data-b24app': 'slot-grid'});
      var head = el('tr');
      head.appendChild(el('th', null, S.date));
      g.workers.forEach(function (w) { head.appendChild(el('th', {'data-worker-id': w.id}, w.name)); });
      t.appendChild(head);
      var cells = {};
      g.cells.forEach(function (c) { cells[c.day + '|' + c.worker_id] = c; });
      g.days.forEach(function (d) {
        var tr = el('tr', {'data-day': d});
        tr.appendChild(el('th', null, dm(d)));
        g.workers.forEach(function (w) {
          var c = cells[d + '|' + w.id] || {off: true};
          var cls = c.off ? 'off' : c.fits ? 'fits' : 'nofit';
          if (c.rank && c.rank <= 3) cls += ' best';
          if (g.current.worker_id === w.id && g.current.time && g.current.time.slice(0, 10) === d) cls += ' current';
          var td = el('td', {'class': cls, 'data-day': d, 'data-worker-id': w.id});
          if (c.rank) td.setAttribute('data-rank', String(c.rank));
          if (c.off) td.textContent = S.day_off;
          else if (!c.fits) td.textContent = S.no_fit;
          else {
            td.appendChild(el('strong', null, c.arrival.slice(11, 16)));
            td.appendChild(el('span', null, '+' + c.extra_minutes + ' ' + S.min));
            td.setAttribute('data-start', c.arrival);
            td.addEventListener('click', function () { book(dealId, w.id, c.arrival, td); });
          }
          if (c.load !== null && c.load !== undefined) {
            var load = Math.max(0, Math.min(1, c.load));
            if (c.fits) td.style.background = 'hsl(' + Math.round(120 * (1 - load)) + ', 65%, 86%)';
            td.setAttribute('title', names[w.id] + ' · ' + S.load + ' ' + Math.round(100 * c.load) + '%');
          }
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      return t;
    }

    function book(dealId, workerId, start, node) {
      if (node.getAttribute('data-busy')) return;
      node.setAttribute('data-busy', '1');
      return state.assignJob({deal_id: dealId, worker_id: workerId, start: start}).then(function (res) {
        state.status(S.scheduled_ok + ' ' + state.fmtTime(start) + ': ' + res.worker);
        return state.reload().then(function () { return showGrid(dealId, start.slice(0, 10)); })
          .then(function () { document.getElementById('side').setAttribute('data-scheduled', workerId + '|' + start); });
      }).catch(function (e) { node.removeAttribute('data-busy'); state.status(S.failed + ': ' + e.message); });
    }

    // --- addresses without coordinates -----------------------------------------------------------
    function showUnplaced() {
      var panel = side(S.unplaced_title, S.loading);
      view('unplaced');
      return api('GET', '/api/maps/unplaced').then(function (u) {
        panel = side(S.unplaced_title, S.place_hint);
        view('unplaced');
        var ul = el('ul', {'class': 'unplaced', 'data-b24app': 'unplaced'});
        var all = u.records.concat(u.pending);
        if (!all.length) ul.appendChild(el('li', null, S.nothing));
        all.forEach(function (r) {
          var li = el('li', {'data-entity': r.entity, 'data-id': r.entity_id});
          li.appendChild(el('strong', null, r.title || (r.entity + ' #' + r.entity_id)));
          li.appendChild(el('span', {'class': 'address'}, r.address || '—'));
          li.appendChild(el('span', {'class': 'meta'}, S['status_' + r.status] || r.status));
          li.addEventListener('click', function () {
            Array.prototype.forEach.call(ul.children, function (x) { x.classList.remove('placing'); });
            li.classList.add('placing');
            startPlacing({entity: r.entity, id: r.entity_id});
          });
          ul.appendChild(li);
        });
        panel.appendChild(ul);
      }).catch(function (e) { failed(panel, e); });
    }

    // item: {entity, id[, lat, lon, move]}; a placed job's pin starts where it is now
    function startPlacing(item) {
      stopPlacing();
      placing = item;
      state.status(item.move ? S.move_hint : S.place_hint);
      document.getElementById('map').classList.add('placing');
      var at = item.move ? L.latLng(item.lat, item.lon) : map.getCenter();
      placeMarker = L.marker(at, {draggable: true, zIndexOffset: 2000,
        icon: L.divIcon({className: 'b24-place', html: el('span'), iconSize: [18, 18], iconAnchor: [9, 9]})});
      placeMarker.on('dragend', function () { savePin(placeMarker.getLatLng()); });
      placeMarker.addTo(map);
      state.placing = placing;
    }

    function stopPlacing() {
      if (placeMarker) { map.removeLayer(placeMarker); placeMarker = null; }
      placing = null; state.placing = null;
      document.getElementById('map').classList.remove('placing');
    }

    function savePin(ll) {
      if (!placing) return;
      var item = placing;
      return api('POST', '/api/maps/pin', {entity: item.entity, id: item.id, lat: ll.lat, lon: ll.lng}).then(function (res) {
        stopPlacing();
        var done = S.pinned_ok + ': ' + res.lat.toFixed(5) + ', ' + res.lon.toFixed(5);
        state.status(done);
        if (item.move) document.getElementById('side-job').textContent = done;
        return state.reload().then(item.move ? null : showUnplaced).then(function () {
          document.getElementById('side').setAttribute('data-pinned', item.entity + ':' + item.id);
        });
      }).catch(function (e) { state.status(S.failed + ': ' + e.message); });
    }

    function init() {
      document.getElementById('unplaced-open').addEventListener('click', showUnplaced);
      var ws = document.getElementById('f-worker'), dayBtn = document.getElementById('worker-day-open');
      function toggle() { dayBtn.hidden = !/^\d+$/.test(ws.value); }
      ws.addEventListener('change', toggle);
      toggle();
      dayBtn.addEventListener('click', function () {
        showDay(ws.value, document.getElementById('f-date').value || state.today());
      });
      map.on('click', function (e) {
        if (!placing) return;
        placeMarker.setLatLng(e.latlng);
        savePin(e.latlng);
      });
    }

    // "move pin" in a job's popup: the same placing marker, started at the job's current place
    // (the side panel says what to do; closing it cancels the move)
    function movePin(row) {
      clear();
      side(S.move_pin + ': ' + row.title, S.move_hint);
      view('move-pin');
      startPlacing({entity: 'deal', id: row.id, lat: row.lat, lon: row.lon, move: true});
    }

    return {init: init, clear: clear, showDay: showDay, showSwap: showSwap, showGrid: showGrid,
            showUnplaced: showUnplaced, movePin: movePin};
  };
})();
