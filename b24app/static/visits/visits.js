/* Visit pages: company tab, calendar, visit card, company map, stats, day route — one small app.
   Every portal string goes into the DOM through textContent (never innerHTML). */
(function () {
  "use strict";
  var cfg = B24.cfg, el = B24.el;
  var S = B24.s, view = document.getElementById("view"), tabs = document.getElementById("tabs");
  var state = { month: null, by: "stage", mapObj: null };

  var api = B24.api, toast = B24.toast;
  /* a refusal is shown as a toast: every view just chains what it does on success */
  api.onRefusal = function (e) { toast(S.error + ": " + e.message); };
  function fmtDate(iso) {
    if (!iso) return "—";
    return B24.i18n.date(iso, { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
                                timeZone: cfg.tz }, "en-GB");       // day-first in English too
  }
  // "2026-01" → "январь 2026 г." / "January 2026": a month is shown in the page's language, never as ISO
  function monthName(ym) {
    return B24.i18n.date(new Date(+ym.slice(0, 4), +ym.slice(5, 7) - 1, 1), { month: "long", year: "numeric" });
  }
  function localNow() {
    // the portal's date and time (cfg.tz), whatever zone the phone or the browser is in
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: cfg.tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date())
      .forEach(function (p) { parts[p.type] = p.value; });
    return { date: parts.year + "-" + parts.month + "-" + parts.day, time: parts.hour + ":" + parts.minute };
  }
  function periodLabel(p) {
    if (S["period." + p]) return S["period." + p];
    var m = /^(\d+)d$/.exec(p);
    return m ? S["period.days"].replace("{n}", m[1]) : p;
  }
  function scalePhoto(file, done) {
    /* a phone camera's 4-12 MB photo is scaled to 1600 px JPEG before upload (the app takes up to 2 MB) */
    var rd = new FileReader();
    rd.onload = function () {
      var raw = { name: file.name, content: rd.result };
      if (!/^image\//.test(file.type) || file.size <= 600 * 1024) return done(raw);
      var img = new Image();
      img.onload = function () {
        var k = Math.min(1, 1600 / Math.max(img.width, img.height)), c = document.createElement("canvas");
        c.width = Math.round(img.width * k); c.height = Math.round(img.height * k);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        done({ name: file.name.replace(/\.[^.]*$/, "") + ".jpg", content: c.toDataURL("image/jpeg", 0.8) });
      };
      img.onerror = function () { done(raw); };
      img.src = rd.result;
    };
    rd.readAsDataURL(file);
  }
  function stageChip(key) {
    return el("span", { "class": "stage", style: "background:" + (S.colors[key] || "#999"), text: S.stages[key] || key || "?" });
  }
  function openCompany(id) {
    var path = "/crm/company/details/" + id + "/";
    if (cfg.frame && window.BX24 && BX24.openPath) BX24.openPath(path);
    else window.open(cfg.portal_url + path, "_blank");
  }
  function visitRow(v) {
    return el("div", { "class": "visit", "data-visit": String(v.id), on: { click: function () { show("visit", v.id); } } },
      stageChip(v.stage), el("span", { text: fmtDate(v.date) }), el("span", { text: v.title }),
      v.purpose ? el("span", { "class": "muted", text: v.purpose }) : null);
  }
  function typeSelect(selected) {
    var s = el("select", { name: "type" });
    Object.keys(S.types).forEach(function (k) { s.appendChild(el("option", { value: k, text: S.types[k] })); });
    if (selected) s.value = selected;
    return s;
  }
  function newVisitForm(companyId, done, opts) {
    opts = opts || {};
    var date = el("input", { type: "datetime-local", name: "date", required: "required" });
    if (opts.now) { var n = localNow(); date.value = n.date + "T" + n.time; }
    var purpose = el("textarea", { name: "purpose", rows: "2" });
    var type = typeSelect(opts.type);
    var f = el("form", { "class": "grid", "data-b24app": "new-visit" },
      el("label", {}, S.date, el("br"), date), el("label", {}, S.type, el("br"), type),
      el("label", {}, S.purpose, el("br"), purpose), el("button", { "class": "primary", type: "submit", text: S.create }));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/visits", { company_id: companyId, date: date.value, type: type.value, purpose: purpose.value })
        .then(function (j) { toast(S.created + " #" + j.visit.id); if (done) done(j.visit); });
    });
    return f;
  }

  /* --- views --------------------------------------------------------------------------------------- */
  var views = {};
  views.company = function (companyId) {
    companyId = companyId || cfg.company_id;
    view.replaceChildren(el("p", { "class": "muted", text: S.loading }));
    api("GET", "/api/visits/company/" + companyId).then(function (j) {
      view.replaceChildren(
        el("div", { "class": "card" }, el("h2", { text: S["title.company"] }),
          el("h3", { text: S.planned }), el("div", { "data-b24app": "planned" }, j.planned.length ? j.planned.map(visitRow) : el("p", { "class": "muted", text: S.none })),
          el("h3", { text: S.past }), el("div", { "data-b24app": "past" }, j.past.length ? j.past.map(visitRow) : el("p", { "class": "muted", text: S.none }))),
        el("div", { "class": "card" }, el("h3", { text: S["new"] }), newVisitForm(companyId, function () { views.company(companyId); })),
        phoneLink() || "");
    });
  };

  function phoneLink() {
    if (!cfg.frame) return null;
    var out = el("div", { "class": "muted" });
    return el("div", { "class": "card" }, el("button", { type: "button", "data-b24app": "phone-link", text: S.phone_link, on: { click: function () {
      api("POST", "/api/visits/phone-link").then(function (j) {
        // the server's SVG goes into an <img> as a data: URL (never into this DOM as markup)
        var qr = el("img", { "data-b24app": "phone-qr", "class": "qr", alt: S.phone_qr,
          src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(j.qr_svg) });
        out.replaceChildren(qr, el("br"), el("a", { href: j.url, target: "_blank", rel: "noopener", "data-b24app": "phone-url", text: j.url }),
          el("br"), S.phone_hint);
      });
    } } }), out);
  }

  function registerCard() {
    /* an unplanned visit registered on the spot: find the company, the date is now, the type Unplanned */
    var search = el("input", { type: "search", name: "company_q", placeholder: S.find_hint, autocomplete: "off",
      enterkeyhint: "search" });
    var list = el("div", { "class": "picks", "data-b24app": "company-results" }), formBox = el("div"), timer = null;
    function find() {
      var q = search.value.trim();
      if (q.length < 2) { list.replaceChildren(); return; }
      api("GET", "/api/visits/companies?q=" + encodeURIComponent(q)).then(function (j) {
        if (search.value.trim() !== q) return;              // a newer query is on its way
        list.replaceChildren.apply(list, j.companies.length ? j.companies.map(function (c) {
          return el("button", { type: "button", "class": "pick", "data-company": String(c.id), on: { click: function () { choose(c); } } },
            el("b", { text: c.title }), c.address ? el("span", { "class": "muted", text: c.address }) : null);
        }) : [el("p", { "class": "muted", text: S.nothing_found })]);
      });
    }
    function choose(c) {
      list.replaceChildren();
      search.value = c.title;
      formBox.replaceChildren(el("p", { "data-b24app": "chosen-company" }, el("b", { text: c.title }), " ",
          el("span", { "class": "muted", text: c.address })),
        newVisitForm(c.id, function (v) { formBox.replaceChildren(); search.value = ""; show("visit", v.id); },
          { type: "unplanned", now: true }));
    }
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(find, 250); });
    return el("div", { "class": "card", "data-b24app": "register" }, el("h3", { text: S.register }),
      el("label", {}, S.find_company, el("br"), search), list, formBox);
  }

  views.calendar = function () {
    var q = "/api/visits/month" + (state.month ? "?month=" + encodeURIComponent(state.month) : "");
    view.replaceChildren(el("p", { "class": "muted", text: S.loading }));
    api("GET", q).then(function (j) {
      state.month = j.month;
      var y = +j.month.slice(0, 4), m = +j.month.slice(5, 7) - 1;
      var first = new Date(y, m, 1), start = (first.getDay() + 6) % 7, days = new Date(y, m + 1, 0).getDate();
      var managerColors = {}, palette = ["#2fc6f6", "#9dcf00", "#ff5752", "#ffa900", "#7b61ff", "#00b4ac", "#f7a700"];
      Object.keys(j.managers).forEach(function (id, i) { managerColors[id] = palette[i % palette.length]; });
      function color(v) { return state.by === "stage" ? S.colors[v.stage] : managerColors[String(v.manager)] || "#999"; }
      var grid = el("div", { "class": "cal", "data-b24app": "calendar" });
      // weekday header, Monday first, in the page's language (2 Jan 2023 was a Monday)
      for (var w = 0; w < 7; w++) {
        grid.appendChild(el("div", { "class": "dow", "data-b24app": "weekday",
          text: B24.i18n.date(new Date(2023, 0, 2 + w), { weekday: "short" }) }));
      }
      for (var i = 0; i < start; i++) grid.appendChild(el("div", { "class": "day out" }));
      var byDay = {};
      // the ISO date carries the portal's offset: its day is the portal's day, whatever the phone's zone
      j.visits.forEach(function (v) { var d = parseInt(String(v.date).slice(8, 10), 10); if (d) (byDay[d] = byDay[d] || []).push(v); });
      for (var d = 1; d <= days; d++) {
        grid.appendChild(el("div", { "class": "day" }, el("b", { text: String(d) }),
          (byDay[d] || []).map(function (v) {
            return el("span", { "class": "chip", "data-visit": String(v.id), style: "background:" + color(v),
              title: v.title, text: v.title, on: { click: function () { show("visit", v.id); } } });
          })));
      }
      var legend = state.by === "stage"
        ? Object.keys(S.stages).map(function (k) { return stageChip(k); })
        : Object.keys(j.managers).map(function (id) { return el("span", { "class": "stage", style: "background:" + managerColors[id], text: j.managers[id] }); });
      function shift(n) { var dt = new Date(y, m + n, 1); state.month = dt.getFullYear() + "-" + String(dt.getMonth() + 1).padStart(2, "0"); views.calendar(); }
      var register = registerCard();
      view.replaceChildren(cfg.frame ? "" : register, el("div", { "class": "card" },
        el("div", { "class": "bar" }, el("button", { type: "button", text: S["month.prev"], on: { click: function () { shift(-1); } } }),
          el("strong", { "data-b24app": "month", "data-month": j.month,
            text: monthName(j.month) }),
          el("button", { type: "button", text: S["month.next"], on: { click: function () { shift(1); } } }),
          el("button", { type: "button", "data-b24app": "by-stage", text: S["by.stage"], on: { click: function () { state.by = "stage"; views.calendar(); } } }),
          el("button", { type: "button", "data-b24app": "by-manager", text: S["by.manager"], on: { click: function () { state.by = "manager"; views.calendar(); } } })),
        el("div", { "class": "bar" }, legend), grid),
        el("div", { "class": "card", "data-b24app": "list" }, el("h3", { text: S["tab.list"] }),
          j.visits.length ? j.visits.map(function (v) {
            var r = visitRow(v);
            r.appendChild(el("span", { "class": "muted", text: (j.companies[String(v.company_id)] || "") + " · " + (j.managers[String(v.manager)] || "") }));
            return r;
          }) : el("p", { "class": "muted", text: S.none })),
        cfg.frame ? register : "", phoneLink() || "");
    });
  };

  /* the company's contacts, edited in place (each field saved on blur) and a form to add one */
  function contactsCard(companyId, contacts, reload) {
    var F = [["NAME", S["contact.name"]], ["LAST_NAME", S["contact.last_name"]], ["POST", S["contact.post"]],
             ["PHONE", S["contact.phone"]], ["EMAIL", S["contact.email"]]];
    var rows = contacts.length ? contacts.map(function (ct) {
      return el("div", { "class": "contact", "data-contact": String(ct.id) }, F.map(function (f) {
        var span = el("span", { "class": "editable", contenteditable: "true", title: S.edit_hint, "data-field": f[0], text: ct[f[0]] || "" });
        var orig = ct[f[0]] || "";
        span.addEventListener("blur", function () {
          var val = span.textContent.trim();
          if (val === orig) return;
          var body = { fields: {} }; body.fields[f[0]] = val;
          api("POST", "/api/visits/company/" + companyId + "/contact/" + ct.id, body)
            .then(function () { orig = val; toast(S.saved); }, function () { span.textContent = orig; });
        });
        return el("div", { "class": "field" }, el("b", { text: f[1] }), span);
      }));
    }) : [el("p", { "class": "muted", text: S["contacts.none"] })];
    var inputs = F.map(function (f) { return el("input", { name: "contact_" + f[0].toLowerCase(), placeholder: f[1] }); });
    var form = el("form", { "class": "grid", "data-b24app": "new-contact" }, inputs,
      el("button", { type: "submit", text: S["contact.add"] }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fields = {};
      F.forEach(function (f, i) { if (inputs[i].value.trim()) fields[f[0]] = inputs[i].value.trim(); });
      api("POST", "/api/visits/company/" + companyId + "/contact", { fields: fields })
        .then(function () { toast(S["contact.added"]); reload(); });
    });
    return el("div", { "class": "card", "data-b24app": "contacts" }, el("h3", { text: S.contacts }), rows, form);
  }

  /* a task from the visit: bound to the visit and its company by the server */
  function taskCard(v) {
    var title = el("input", { name: "task_title", required: "required" });
    var deadline = el("input", { type: "datetime-local", name: "task_deadline" });
    var f = el("form", { "class": "grid", "data-b24app": "task-form" },
      el("label", {}, S["task.name"], el("br"), title), el("label", {}, S["task.deadline"], el("br"), deadline),
      el("button", { type: "submit", text: S["task.add"] }));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/visits/" + v.id + "/task", { title: title.value, deadline: deadline.value || null })
        .then(function (t) { toast(S["task.added"] + " #" + t.id); title.value = ""; deadline.value = ""; });
    });
    return el("div", { "class": "card" }, el("h3", { text: S["task.title"] }), f);
  }

  views.visit = function (id) {
    view.replaceChildren(el("p", { "class": "muted", text: S.loading }));
    api("GET", "/api/visits/" + id).then(function (j) {
      var v = j.visit, c = j.company;
      var parts = [el("div", { "class": "card", "data-b24app": "visit" },
        el("h2", { text: v.title }), stageChip(v.stage), " ", el("span", { text: fmtDate(v.date) }),
        el("div", { "class": "field" }, el("b", { text: S.type }), el("span", { text: S.types[v.type] || "" })),
        el("div", { "class": "field" }, el("b", { text: S.purpose }), el("span", { text: v.purpose })),
        v.result ? el("div", { "class": "field" }, el("b", { text: S.result }), el("span", { text: v.result })) : null)];
      if (c) {
        var fields = [["TITLE", S.company], ["ADDRESS", S.address], ["region", S.region], ["COMMENTS", S.comments]];
        parts.push(el("div", { "class": "card", "data-b24app": "company-card" }, el("h3", { text: S.company_fields }),
          fields.map(function (f) {
            var span = el("span", { "class": "editable", contenteditable: "true", title: S.edit_hint, "data-field": f[0], text: c[f[0]] || "" });
            var orig = c[f[0]] || "";
            span.addEventListener("blur", function () {
              var val = span.textContent.trim();
              if (val === orig) return;
              var body = { fields: {} }; body.fields[f[0]] = val;
              api("POST", "/api/visits/company/" + c.id, body).then(function () { orig = val; toast(S.saved); });
            });
            return el("div", { "class": "field" }, el("b", { text: f[1] }), span);
          }),
          el("div", { "class": "field" }, el("b", { text: S.phone }), el("span", { text: c.PHONE || "" })),
          el("button", { type: "button", text: S.open_company, on: { click: function () { openCompany(c.id); } } })));
      }
      if (c) parts.push(contactsCard(c.id, j.contacts || [], function () { views.visit(v.id); }));
      parts.push(taskCard(v));
      if (v.stage !== "done" && v.stage !== "failed") {
        var res = el("textarea", { name: "result", rows: "3", required: "required" });
        var comment = el("textarea", { name: "comment", rows: "2" });
        var photo = el("input", { type: "file", accept: "image/*", capture: "environment" });
        var f = el("form", { "class": "grid", "data-b24app": "result-form" }, el("label", {}, S.result, el("br"), res),
          el("label", {}, S.comment, el("br"), comment), el("label", {}, S.photo, el("br"), photo),
          el("button", { "class": "primary", type: "submit", text: S.save_result }));
        f.addEventListener("submit", function (ev) {
          ev.preventDefault();
          var send = function (ph) {
            api("POST", "/api/visits/" + v.id + "/result", { result: res.value, comment: comment.value, photo: ph })
              .then(function () { toast(S.saved); views.visit(v.id); });
          };
          var file = photo.files && photo.files[0];
          if (!file) return send(null);
          scalePhoto(file, send);
        });
        parts.push(el("div", { "class": "card" }, f));
      }
      if (v.stage !== "done" && v.stage !== "failed") {
        // move the visit from its card: the server refuses the past and finished visits, in the page's language
        var ndate = el("input", { type: "datetime-local", name: "reschedule_date" });
        parts.push(el("div", { "class": "card" }, el("div", { "class": "bar" }, el("label", {}, S.reschedule_date + " ", ndate),
          el("button", { type: "button", "class": "primary", "data-b24app": "reschedule", text: S.reschedule, on: { click: function () {
            api("POST", "/api/visits/" + v.id + "/reschedule", { date: ndate.value }).then(function () { toast(S.rescheduled); views.visit(v.id); });
          } } }))));
      }
      var rdate = el("input", { type: "date", name: "repeat_date" });
      parts.push(el("div", { "class": "card" }, el("div", { "class": "bar" }, el("label", {}, S.repeat_date + " ", rdate),
        el("button", { type: "button", "class": "primary", "data-b24app": "repeat", text: S.repeat, on: { click: function () {
          api("POST", "/api/visits/" + v.id + "/repeat", { date: rdate.value }).then(function (r) { toast(S.created + " #" + r.visit.id); show("visit", r.visit.id); });
        } } }))));
      if (c) {
        parts.push(el("div", { "class": "card" }, el("h3", { text: S.visits_of_company }),
          el("h3", { text: S.planned }), j.company_visits.planned.map(visitRow),
          el("h3", { text: S.past }), j.company_visits.past.map(visitRow)));
      }
      view.replaceChildren.apply(view, parts.filter(Boolean));
    });
  };

  views.map = function () {
    var period = el("select", { "data-b24app": "period" });
    var periods = ["month", "quarter", "year", "30d", "90d"];
    if (periods.indexOf(cfg.visited_period) < 0) periods.push(cfg.visited_period);     // e.g. "14d" or "2026-01"
    periods.forEach(function (p) { period.appendChild(el("option", { value: p, text: periodLabel(p) })); });
    period.value = cfg.visited_period || "month";                 // the portal's configured "visited" period
    var box = el("div", { id: "map", "data-b24app": "map" }), info = el("span", { "class": "muted", "data-b24app": "map-info" });
    view.replaceChildren(el("div", { "class": "card" }, el("div", { "class": "bar" }, el("label", {}, S.period + " ", period), info), box));
    var map = L.map(box).setView([55.75, 37.62], 10), layer = L.layerGroup().addTo(map);
    L.tileLayer(cfg.tiles, { maxZoom: 18, attribution: "© OpenStreetMap" }).addTo(map);
    function load() {
      api("GET", "/api/visits/map?period=" + encodeURIComponent(period.value)).then(function (j) {
        layer.clearLayers();
        info.textContent = S.visited + ": " + j.visited + " / " + j.markers.length;
        j.markers.forEach(function (m) {
          var mk = L.circleMarker([m.lat, m.lon], { radius: 8, color: "#555", weight: 1, fillColor: m.color, fillOpacity: 0.9 });
          var content = null;
          mk.bindPopup(function () { return content || (content = popup(m, mk)); }, { maxHeight: 300, autoPanPadding: [20, 20] });   // built once: update() keeps the form
          mk.addTo(layer);
          markerIndex[m.id] = mk;
          markerData[m.id] = m;
          if (picked[m.id]) mk.setStyle({ weight: 4, color: "#0075ff" });
        });
        window.b24appVisitMarkers = markerIndex;
      });
    }
    var markerIndex = {}, markerData = {};
    function popup(m, mk) {
      var formBox = el("div");
      // the fields the portal's administrator chose (settings), as text only
      var fields = (m.fields || []).map(function (f) {
        return el("div", { "class": "pf", "data-field": f.code }, el("span", { "class": "muted", text: f.label + ": " }),
          el("span", { text: f.value || "—" }));
      });
      var pickBtn = el("button", { type: "button", "data-b24app": "pick", text: picked[m.id] ? S["pick.remove"] : S["pick.add"],
        on: { click: function () { togglePick(m); pickBtn.textContent = picked[m.id] ? S["pick.remove"] : S["pick.add"]; } } });
      return el("div", { "data-b24app": "popup", "data-company": String(m.id) }, el("strong", { text: m.title }),
        el("div", { "data-b24app": "popup-fields" }, fields), el("span", { text: m.visited ? S.visited : S.not_visited }), el("br"),
        el("button", { type: "button", "data-b24app": "open-company", text: S.open_company, on: { click: function () { openCompany(m.id); } } }), " ",
        el("button", { type: "button", "data-b24app": "plan-visit", text: S.plan_visit, on: { click: function () {
          formBox.replaceChildren(newVisitForm(m.id, function () { mk.closePopup(); }));
          mk.getPopup().update();
        } } }), " ", pickBtn, " ",
        el("button", { type: "button", "data-b24app": "move-pin", text: S["pin.move"], on: { click: function () { movePin(m, mk); } } }),
        formBox);
    }
    /* move pin: the marker follows a drag; where it is dropped is saved as the company's place */
    function movePin(m, mk) {
      mk.closePopup();
      var drag = L.marker(mk.getLatLng(), { draggable: true, title: S["pin.hint"] }).addTo(map);
      toast(S["pin.hint"]);
      drag.on("dragend", function () {
        var p = drag.getLatLng();
        api("POST", "/api/visits/company/" + m.id + "/pin", { lat: +p.lat.toFixed(6), lon: +p.lng.toFixed(6) }).then(function (r) {
          mk.setLatLng([r.lat, r.lon]); m.lat = r.lat; m.lon = r.lon;
          map.removeLayer(drag);
          box.setAttribute("data-pinned", String(m.id));
          toast(S["pin.saved"]);
        });
      });
    }
    /* companies picked for one day's route: a bar under the map previews it and plans the visits */
    var picked = {}, pickBar = el("div", { "class": "bar", "data-b24app": "pick-bar", hidden: "hidden" });
    var pickDay = el("input", { type: "date", name: "pick_day", value: localNow().date });
    var pickOut = el("div", { "data-b24app": "pick-route" }), pickCount = el("b", { "data-b24app": "pick-count" });
    var clickKey = null;
    function ids() { return Object.keys(picked).map(Number); }
    function togglePick(m) {
      if (picked[m.id]) delete picked[m.id]; else picked[m.id] = m;
      clickKey = null;
      pickCount.textContent = String(ids().length);
      if (ids().length) pickBar.removeAttribute("hidden"); else pickBar.setAttribute("hidden", "hidden");
      if (markerIndex[m.id]) markerIndex[m.id].setStyle({ weight: picked[m.id] ? 4 : 1, color: picked[m.id] ? "#0075ff" : "#555" });
    }
    function showRoute(j) {
      pickOut.replaceChildren(el("ol", {}, j.stops.map(function (st) {
        return el("li", { "data-company": String(st.company_id) }, el("b", { text: (st.start || "—") + " " }),
          el("span", { text: st.company + (st.address ? " — " + st.address : "") }));
      })), el("p", { "class": "muted", text: S.drive + ": " + j.drive_minutes + (j.created.length ? " · " + S["pick.planned"] + ": " + j.created.length : "") }),
        el("div", {}, j.links.map(function (u) { return el("a", { href: u, target: "_blank", rel: "noopener", "data-b24app": "route-link", text: S.open_yandex }); })));
      if (j.created.length) pickOut.setAttribute("data-created", String(j.created.length));
    }
    function routeOf(create) {
      if (create && !clickKey) clickKey = String(Date.now()) + Math.random().toString(36).slice(2, 8);
      return api("POST", "/api/visits/route/companies", { date: pickDay.value, company_ids: ids(), create: !!create, key: create ? clickKey : null })
        .then(showRoute);
    }
    pickBar.append(el("span", {}, S["pick.count"] + ": "), pickCount, el("label", {}, " " + S.day + " ", pickDay),
      el("button", { type: "button", "data-b24app": "pick-route-build", text: S.build_route, on: { click: function () { routeOf(false); } } }),
      el("button", { type: "button", "class": "primary", "data-b24app": "pick-route-plan", text: S["pick.plan"], on: { click: function () { routeOf(true); } } }),
      el("button", { type: "button", text: S["pick.clear"], on: { click: function () {
        ids().forEach(function (i) { togglePick(picked[i]); }); pickOut.replaceChildren();
      } } }));
    view.firstChild.appendChild(pickBar);
    view.firstChild.appendChild(pickOut);
    window.b24appPick = function (id) { var m = markerData[id]; if (m) togglePick(m); };
    period.addEventListener("change", load);
    load();
  };

  views.stats = function () {
    api("GET", "/api/visits/stats" + (state.month ? "?month=" + state.month : "")).then(function (j) {
      view.replaceChildren(el("div", { "class": "card" }, el("h2", { text: S["tab.stats"] + " · " + monthName(j.month) }),
        el("table", { "data-b24app": "stats" }, el("tr", {}, [S.manager, S.closed, S.plan, S.percent, S.open, S.overdue].map(function (h) { return el("th", { text: h }); })),
          j.rows.map(function (r) {
            return el("tr", {}, [r.name, r.done, r.plan == null ? "—" : r.plan, r.percent == null ? "—" : r.percent + "%", r.open, r.overdue]
              .map(function (x) { return el("td", { text: String(x) }); }));
          }))));
    });
  };

  views.route = function () {
    var day = el("input", { type: "date", name: "day", value: localNow().date });     // the portal's today, not UTC's
    /* whose route: one's own; a team role picks among the people with visits this month, by name */
    var manager = el("select", { name: "manager" });
    function people() {              /* the people with visits in the chosen day's month, by name */
      var keep = manager.value || String(cfg.user_id || "");
      manager.replaceChildren(el("option", { value: String(cfg.user_id || ""), text: S.me }));
      if (!(cfg.can && cfg.can["visits.team"])) return;
      api("GET", "/api/visits/stats?month=" + (day.value || localNow().date).slice(0, 7)).then(function (j) {
        j.rows.forEach(function (r) {
          if (String(r.manager) !== String(cfg.user_id) && r.manager) manager.appendChild(el("option", { value: String(r.manager), text: r.name }));
        });
        manager.value = keep;
        if (manager.value !== keep) manager.value = String(cfg.user_id || "");
      });
    }
    day.addEventListener("change", people);
    people();
    var out = el("div", { "data-b24app": "route" });
    view.replaceChildren(el("div", { "class": "card" }, el("div", { "class": "bar" }, el("label", {}, S.day + " ", day),
      el("label", {}, S.manager + " ", manager),
      el("button", { type: "button", "class": "primary", text: S.build_route, on: { click: function () {
        api("GET", "/api/visits/route?date=" + day.value + "&manager=" + manager.value).then(function (j) {
          out.replaceChildren.apply(out, [el("ol", {}, j.stops.map(function (s) {
            var note = s.late ? S["route.late"] + " " + s.agreed : (s.agreed ? S["route.agreed"] + " " + s.agreed : "");
            return el("li", { "class": s.late ? "late" : "", "data-visit-id": String(s.id) },
              el("b", { text: (s.start || s.arrive || "—") + " " }), el("span", { text: s.company + " — " + s.address }),
              note ? el("span", { "class": "muted", text: " · " + note }) : null);
          })), el("p", { "class": "muted", "data-b24app": "route-drive", text: S.drive + ": " + j.drive_minutes })]
            .concat(j.links.map(function (u) {
              return el("a", { href: u, target: "_blank", rel: "noopener", "data-b24app": "route-link", text: S.open_yandex });
            }))
            .concat(j.unplaced.length ? [el("p", { "class": "muted", text: S.unplaced + ": " + j.unplaced.map(function (u) { return u.title; }).join(", ") })] : []));
        });
      } } })), out));
  };

  views.settings = function () {
    view.replaceChildren(el("p", { "class": "muted", text: S.loading }));
    api("GET", "/api/visits/settings").then(function (j) {
      var chosen = {};
      j.popup_fields.forEach(function (f) { chosen[f.code] = true; });
      var boxes = j.company_fields.map(function (f) {
        var cb = el("input", { type: "checkbox", name: "popup_field", value: f.code });
        cb.checked = !!chosen[f.code];
        return el("label", { "class": "check" }, cb, " " + f.label + " ", el("span", { "class": "muted", text: f.code }));
      });
      var period = el("input", { type: "text", name: "visited_period", value: j.visited_period, title: S["settings.period_hint"] });
      var f = el("form", { "class": "grid", "data-b24app": "settings" },
        el("h3", { text: S["settings.popup"] }), el("div", { "class": "checks" }, boxes),
        el("label", {}, S["settings.period"], el("br"), period, el("br"), el("span", { "class": "muted", text: S["settings.period_hint"] })),
        el("button", { "class": "primary", type: "submit", text: S.save }));
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var codes = boxes.map(function (b) { return b.querySelector("input"); }).filter(function (i) { return i.checked; })
          .map(function (i) { return i.value; });
        api("POST", "/api/visits/settings", { popup_fields: codes, visited_period: period.value.trim() }).then(function (r) {
          cfg.visited_period = r.visited_period; toast(S.saved);
        });
      });
      view.replaceChildren(el("div", { "class": "card" }, el("h2", { text: S["tab.settings"] }), f));
    });
  };

  function show(name, arg) {
    tabs.querySelectorAll("button").forEach(function (b) { b.classList.toggle("on", b.dataset.view === name); });
    views[name](arg);
  }
  var tabList = cfg.view === "company" ? [] : ["calendar", "map", "stats", "route"].concat(cfg.is_admin ? ["settings"] : []);
  tabList.forEach(function (t) {
    tabs.appendChild(el("button", { type: "button", "data-view": t, text: S["tab." + t], on: { click: function () { show(t); } } }));
  });
  if (!tabList.length) tabs.hidden = true;
  window.b24appVisits = { show: show };
  show(cfg.view in views ? cfg.view : "calendar");
  if (cfg.frame) B24.fit.watch(view);     // the phone page has no frame (and no BX24.js) to fit
}());
