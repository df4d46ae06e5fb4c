/* Dashboards: visits by region, plan vs fact by employee, jobs by worker, each with CSS bars and a CSV
   download. Every portal string goes into the DOM through textContent (never innerHTML). */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, C = cfg.columns, el = B24.el, api = B24.api;
  var statusEl = document.getElementById("status");
  var known = { regions: {}, users: {} };      // filter options seen for the period (kept while filtering)
  var state = { period: "month", from: "", to: "", region: "", user: "" };

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
    return el("table", { "data-b24app": name }, el("thead", {}, head), el("tbody", {}, body));
  }
  function legend(keys) {
    return el("div", { "class": "legend" }, keys.map(function (k) { return el("span", {}, el("i", { "class": "c-" + k }), S[k]); }));
  }
  function stacked(rows, keys, label) {      // one bar per row, segments by keys, scaled to the largest row
    var max = Math.max.apply(null, rows.map(function (r) { return keys.reduce(function (s, k) { return s + (r[k] || 0); }, 0); }).concat([1]));
    return el("div", { "class": "chart" }, rows.map(function (r) {
      return [el("div", { "class": "name", text: label(r) }), el("div", { "class": "bar" }, keys.map(function (k) {
        return el("span", { "class": "c-" + k, style: "width:" + (100 * (r[k] || 0) / max) + "%", title: S[k] + ": " + fmt(r[k]) });
      }))];
    }).reduce(function (a, b) { return a.concat(b); }, []));
  }
  function paired(rows, keys, label) {       // two thin bars per row (plan vs fact, on site vs travel)
    var max = Math.max.apply(null, rows.map(function (r) { return Math.max(r[keys[0]] || 0, r[keys[1]] || 0); }).concat([1]));
    return el("div", { "class": "chart" }, rows.map(function (r) {
      return [el("div", { "class": "name", text: label(r) }), el("div", { "class": "bars2" }, keys.map(function (k) {
        return el("div", { "class": "bar" }, el("span", { "class": "c-" + k, style: "width:" + (100 * (r[k] || 0) / max) + "%",
          title: S[k] + ": " + fmt(r[k]) }));
      }))];
    }).reduce(function (a, b) { return a.concat(b); }, []));
  }
  function csvLink(path, out) {
    /* a one-time URL (60 s, one fetch) for Excel / Power BI "from web": the page session stays in headers */
    api("POST", "/api/reports/download", { path: path }).then(function (j) {
      var input = el("input", { type: "text", readonly: "readonly", "data-b24app": "csv-url", value: j.url });
      out.replaceChildren(input, " ", el("span", { "class": "muted", text: S.csv_link_hint }));
      input.select();
    }).catch(function (e) { statusEl.textContent = S.error + ": " + e.message; });
  }
  function section(name, title, csvPath, csvName, content, note) {
    var box = document.querySelector("[data-b24app=section-" + name + "]");
    var linkOut = el("div", { "class": "csv-link", "data-b24app": "csv-link-" + name });
    box.replaceChildren(el("h2", {}, title, el("button", { type: "button", "class": "csv", "data-b24app": "csv-" + name,
      text: S.csv, on: { click: function () { download(csvPath, csvName); } } }),
      el("button", { type: "button", "class": "csv", "data-b24app": "csv-link-button-" + name,
        text: S.csv_link, on: { click: function () { csvLink(csvPath, linkOut); } } })),
      linkOut, el("div", {}, note ? el("p", { "class": "muted", text: note }) : null, content));
  }

  function load() {
    statusEl.textContent = S.loading;
    var vq = params(), jq = params().replace(/&region=[^&]*/, "");
    Promise.all([api("GET", "/api/reports/visits" + vq), api("GET", "/api/reports/jobs" + jq)]).then(function (res) {
      var v = res[0], j = res[1], p = v.period;
      v.options.regions.forEach(function (r) { known.regions[r] = true; });
      v.options.users.forEach(function (u) { known.users[u.id] = u.name; });
      j.workers.forEach(function (w) { if (w.worker_id) known.users[w.worker_id] = w.name; });
      fillOptions();
      var regionName = function (r) { return r.region || S.no_region; }, userName = function (r) { return r.name || "—"; };
      section("regions", S["visits.by_region"], "/api/reports/visits.csv" + params(["table=regions"]),
        "visits-regions-" + p.from + "-" + p.to + ".csv",
        v.regions.length ? [legend(["planned", "done", "overdue", "failed"]), stacked(v.regions, ["planned", "done", "overdue", "failed"], regionName),
          table("regions", v.regions, v.totals, regionName)] : el("p", { "class": "muted", text: S.none }));
      section("employees", S["visits.by_employee"], "/api/reports/visits.csv" + params(["table=employees"]),
        "visits-employees-" + p.from + "-" + p.to + ".csv",
        v.employees.length ? [legend(["plan", "fact"]), paired(v.employees, ["plan", "fact"], userName),
          table("employees", v.employees, null, userName)] : el("p", { "class": "muted", text: S.none }));
      section("jobs", S["jobs.by_worker"], "/api/reports/jobs.csv" + jq, "jobs-" + p.from + "-" + p.to + ".csv",
        j.workers.length ? [legend(["on_site_minutes", "travel_minutes"]), paired(j.workers, ["on_site_minutes", "travel_minutes"], userName),
          table("jobs", j.workers, j.totals, userName)] : el("p", { "class": "muted", text: S.none }),
        state.region ? S["jobs.note"] : null);
      statusEl.textContent = S.period + ": " + p.from + " — " + p.to + " · " +
        S.read.replace("{rows}", v.read.rows).replace("{calls}", v.read.http_calls);
      document.body.setAttribute("data-b24app-loaded", p.from + ".." + p.to);
    }).catch(function (e) { statusEl.textContent = S.error + ": " + e.message; });
  }

  filters();
  load();
  B24.fit.watch(document.body);                 // the frame grows with the tables
})();
