/* Dashboards from the server's cache (GET /api/reports/dashboard): plan vs fact by month (trend), visit
   types and shares, visits by region, plan vs fact by employee, 1C sales next to visits, jobs per worker.
   Each chart is SVG drawn by the server (parsed as XML, never as HTML); each table has CSV and XLSX
   downloads and a one-time link for Excel. Portal strings reach the DOM through textContent only. */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, C = cfg.columns, el = B24.el, api = B24.api;
  var statusEl = document.getElementById("status");
  var known = { regions: {}, users: {} };      // filter options seen for the period (kept while filtering)
  var state = { period: "month", from: "", to: "", region: "", user: "" };

  /* tabs: dashboards | plans | feed */
  document.querySelectorAll("[data-b24app=tabs] [data-tab]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll("[data-b24app=tabs] [data-tab]").forEach(function (x) {
        x.classList.toggle("active", x === b);
      });
      document.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = p.getAttribute("data-pane") !== b.getAttribute("data-tab"); });
      document.dispatchEvent(new CustomEvent("b24app:tab", { detail: b.getAttribute("data-tab") }));
      B24.fit.watch(document.body);
    });
  });

  function params(extra) {
    var q = [];
    if (state.period === "custom") q.push("from=" + encodeURIComponent(state.from), "to=" + encodeURIComponent(state.to));
    else q.push("period=" + state.period);
    if (state.region) q.push("region=" + encodeURIComponent(state.region));
    if (state.user) q.push("user=" + encodeURIComponent(state.user));
    return "?" + q.concat(extra || []).join("&");
  }
  function fmt(v) { return B24.i18n.number(v); }
  function download(path, name) {
    api.raw("GET", path).then(function (r) { return r.blob(); }).then(function (b) {
      var a = el("a", { href: URL.createObjectURL(b), download: name });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(function (e) { statusEl.textContent = S.error + ": " + e.message; });
  }

  function filters() {
    var f = document.getElementById("filters");
    var period = el("select", { name: "period" }, ["week", "month", "quarter", "custom"].map(function (k) {
      return el("option", { value: k, text: S["period." + k] });
    }));
    period.value = state.period;
    var from = el("input", { type: "date", name: "from" }), to = el("input", { type: "date", name: "to" });
    var range = el("span", { "data-b24app": "range" }, el("label", {}, S.from, from), " ", el("label", {}, S.to, to));
    range.hidden = true;
    period.addEventListener("change", function () { range.hidden = period.value !== "custom"; });
    var region = el("select", { name: "region" }), user = el("select", { name: "user" });
    var apply = el("button", { type: "submit", "data-b24app": "apply", text: S.apply });
    apply.addEventListener("click", function () {
      var changedPeriod = period.value !== state.period || from.value !== state.from || to.value !== state.to;
      state.period = period.value; state.from = from.value; state.to = to.value;
      if (changedPeriod) { known = { regions: {}, users: {} }; state.region = ""; state.user = ""; }
      else { state.region = region.value; state.user = user.value; }
      load();
    });
    f.addEventListener("submit", function (ev) { ev.preventDefault(); });   // Apply's click does the work
    f.replaceChildren(el("label", {}, S.period, period), range, el("label", {}, S.region, region),
      el("label", {}, S.employee, user), apply);
  }
  function fillOptions() {
    var region = document.querySelector("#filters select[name=region]"),
        user = document.querySelector("#filters select[name=user]");
    region.replaceChildren.apply(region, [el("option", { value: "", text: S.all })].concat(
      Object.keys(known.regions).sort().map(function (r) { return el("option", { value: r, text: r }); })));
    user.replaceChildren.apply(user, [el("option", { value: "", text: S.all })].concat(
      Object.keys(known.users).map(function (id) { return el("option", { value: id, text: known.users[id] }); })));
    region.value = state.region; user.value = state.user;
  }

  function table(name, rows, totals, label) {
    var cols = C[name];
    var head = el("tr", {}, cols.map(function (c) { return el("th", { text: S[c[1]] }); }));
    var body = rows.map(function (r) {
      return el("tr", { "data-row": label(r) }, cols.map(function (c, i) {
        return el("td", { "data-col": c[0], text: i === 0 ? label(r) : fmt(r[c[0]]) });
      }));
    });
    if (totals) body.push(el("tr", { "class": "totals" }, cols.map(function (c, i) {
      return el("td", { "data-col": c[0], text: i === 0 ? S.totals : fmt(totals[c[0]]) });
    })));
    return el("div", { "class": "table-wrap" }, el("table", { "data-b24app": name }, el("thead", {}, head), el("tbody", {}, body)));
  }
  /* the server's SVG, parsed as XML (scripts and handlers in it would not run; we draw none) */
  function chart(markup) {
    if (!markup) return null;
    var doc = new DOMParser().parseFromString(markup, "image/svg+xml");
    var svg = doc.documentElement;
    if (!svg || svg.nodeName !== "svg") return null;
    return el("div", { "class": "chart-box" }, document.importNode(svg, true));
  }
  function csvLink(path, out) {
    /* a one-time URL (60 s, one fetch) for Excel / Power BI "from web": the page session stays in headers */
    api("POST", "/api/reports/download", { path: path }).then(function (j) {
      var input = el("input", { type: "text", readonly: "readonly", "data-b24app": "csv-url", value: j.url });
      out.replaceChildren(input, " ", el("span", { "class": "muted", text: S.csv_link_hint }));
      input.select();
    }).catch(function (e) { statusEl.textContent = S.error + ": " + e.message; });
  }
  function section(name, title, p, content, note) {
    var box = document.querySelector("[data-b24app=section-" + name + "]");
    var csvPath = "/api/reports/export.csv" + params(["table=" + name]);
    var xlsxPath = "/api/reports/export.xlsx" + params(["table=" + name]);
    var base = name + "-" + p.from + "-" + p.to;
    var linkOut = el("div", { "class": "csv-link", "data-b24app": "csv-link-" + name });
    box.replaceChildren(el("h2", {}, title, el("span", { "class": "actions" },
      el("button", { type: "button", "class": "csv", "data-b24app": "csv-" + name, text: S.csv,
        on: { click: function () { download(csvPath, base + ".csv"); } } }),
      el("button", { type: "button", "class": "csv", "data-b24app": "xlsx-" + name, text: S.xlsx,
        on: { click: function () { download(xlsxPath, base + ".xlsx"); } } }),
      el("button", { type: "button", "class": "csv", "data-b24app": "csv-link-button-" + name,
        text: S.csv_link, on: { click: function () { csvLink(csvPath, linkOut); } } }))),
      linkOut, el("div", {}, note ? el("p", { "class": "muted", text: note }) : null, content));
  }
  function orNone(rows, build) { return rows.length ? build() : el("p", { "class": "muted", text: S.none }); }

  function load() {
    statusEl.textContent = S.loading;
    api("GET", "/api/reports/dashboard" + params()).then(function (d) {
      var p = d.period, ch = d.charts || {};
      d.options.regions.forEach(function (r) { known.regions[r] = true; });
      d.options.users.forEach(function (u) { known.users[u.id] = u.name; });
      d.jobs.forEach(function (w) { if (w.worker_id) known.users[w.worker_id] = w.name; });
      d.sales.forEach(function (w) { if (w.user_id) known.users[w.user_id] = w.name; });
      fillOptions();
      var regionName = function (r) { return r.region || S.no_region; }, userName = function (r) { return r.name || "—"; };
      var labelOf = function (r) { return r.label; };
      section("trend", S.trend, p, [chart(ch.trend), table("trend", d.trend, null, labelOf)]);
      section("types", S.types, p, orNone(d.types, function () { return [chart(ch.types), table("types", d.types, null, labelOf)]; }));
      section("regions", S["visits.by_region"], p, orNone(d.regions, function () {
        return [chart(ch.regions), table("regions", d.regions, d.totals, regionName)]; }));
      section("employees", S["visits.by_employee"], p, orNone(d.employees, function () {
        return [chart(ch.employees), table("employees", d.employees, null, userName)]; }));
      section("sales", S["sales.by_employee"], p, orNone(d.sales, function () {
        return [chart(ch.sales), table("sales", d.sales, d.sales_totals, userName)]; }), state.region ? S["sales.note"] : null);
      section("jobs", S["jobs.by_worker"], p, orNone(d.jobs, function () {
        return [chart(ch.jobs), table("jobs", d.jobs, d.jobs_totals, userName)]; }), state.region ? S["jobs.note"] : null);
      statusEl.textContent = S.period + ": " + p.from + " — " + p.to + " · " +
        S.cached.replace("{at}", d.read.cached_at ? B24.i18n.when(Date.parse(d.read.cached_at) / 1000) : "—").replace("{calls}", d.read.http_calls);
      document.body.setAttribute("data-b24app-loaded", p.from + ".." + p.to);
    }).catch(function (e) { statusEl.textContent = S.error + ": " + e.message; });
  }

  filters();
  load();
  B24.fit.watch(document.body);                 // the frame grows with the tables
})();
