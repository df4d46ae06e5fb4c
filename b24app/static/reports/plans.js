/* The Plans tab: visits per employee and month for a year (GET/POST /api/reports/plans), people added by
   name (admin/picker.js), a CSV import (POST /api/reports/plans.csv, the file as the body: all lines or
   none); the Power BI / Excel tab: the feed's token created / rotated / revoked (shown once). Only an app
   administrator edits; others see the plans. */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, el = B24.el, api = B24.api;
  var form = document.querySelector("[data-b24app=plans]");
  var year = new Date().getFullYear(), loaded = false;

  function months() { var out = []; for (var m = 1; m <= 12; m++) out.push(year + "-" + (m < 10 ? "0" : "") + m); return out; }
  function msg(kind, text) {
    var box = form.querySelector("[data-b24app=plans-msg]");
    box.className = "msg " + kind; box.textContent = text;
  }
  function row(uid, name, values) {
    var tr = el("tr", { "data-user-id": String(uid) }, el("td", { "class": "name", text: name }));
    months().forEach(function (m) {
      var v = values[m];
      tr.appendChild(el("td", {}, el("input", { type: "number", min: "0", step: "1", name: "plan", "data-month": m,
        "data-was": v === undefined ? "" : String(v), value: v === undefined ? "" : String(v), disabled: !cfg.can_plans,
        "aria-label": name + " " + m })));
    });
    return tr;
  }
  function render(doc) {
    var byUser = {};
    doc.plans.forEach(function (p) {
      (byUser[p.user_id] = byUser[p.user_id] || { name: p.name, values: {} }).values[p.month] = p.visits;
    });
    var yearSel = el("select", { name: "year" }, [year - 1, year, year + 1].map(function (y) {
      return el("option", { value: String(y), text: String(y) });
    }));
    yearSel.value = String(year);
    yearSel.addEventListener("change", function () { year = parseInt(yearSel.value, 10); load(); });
    var head = el("tr", {}, el("th", { text: S.employee }), months().map(function (m) {
      return el("th", { text: B24.i18n.date(m + "-15", { month: "short" }) });
    }));
    var body = el("tbody", {}, Object.keys(byUser).map(function (uid) { return row(uid, byUser[uid].name, byUser[uid].values); }));
    var parts = [el("h2", { text: S.plans }), el("p", { "class": "muted", text: S["plans.hint"] }),
      el("label", { "class": "field" }, S["plans.year"], yearSel),
      el("div", { "class": "table-wrap" }, el("table", { "data-b24app": "plans-table" }, el("thead", {}, head), body))];
    if (!Object.keys(byUser).length) parts.push(el("p", { "class": "muted", "data-b24app": "plans-none", text: S["plans.none"] }));
    if (cfg.can_plans) {
      parts.push(el("label", { "class": "field" }, S["plans.add"], B24Admin.personPicker({ name: "plan_user_q", results: "plan-user-results",
        onPick: function (u) {
          if (!body.querySelector("tr[data-user-id='" + u.id + "']")) body.appendChild(row(u.id, u.name, {}));
          var none = form.querySelector("[data-b24app=plans-none]"); if (none) none.remove();
          B24.fit.watch(document.body);
        } })));
      var file = el("input", { type: "file", name: "plans_csv", accept: ".csv,text/csv" });
      parts.push(el("div", { "class": "actions" }, el("button", { type: "submit", "data-b24app": "plans-save", text: S["plans.save"] })),
        el("h3", { text: S["plans.import"] }), el("p", { "class": "muted", text: S["plans.import_hint"] }),
        el("div", { "class": "actions" }, file, el("button", { type: "button", "data-b24app": "plans-import", text: S["plans.import"],
          on: { click: function () { importCsv(file); } } })));
    } else {
      parts.push(el("p", { "class": "muted", text: S["plans.admin_only"] }));
    }
    parts.push(el("div", { "class": "msg", "data-b24app": "plans-msg" }));
    form.replaceChildren.apply(form, parts);
  }
  function load() {
    return api("GET", "/api/reports/plans?from=" + year + "-01&to=" + year + "-12").then(function (doc) {
      render(doc); form.setAttribute("data-b24app-ready", String(year)); B24.fit.watch(document.body);
    }).catch(function (e) { form.textContent = S.error + ": " + e.message; });
  }
  function save() {
    var plans = [];
    form.querySelectorAll("tr[data-user-id] input[name=plan]").forEach(function (i) {
      var v = i.value.trim();
      if (v === i.getAttribute("data-was")) return;
      plans.push({ user_id: parseInt(i.closest("tr").getAttribute("data-user-id"), 10), month: i.getAttribute("data-month"),
                   visits: v === "" ? null : v });
    });
    msg("wait", S.saving);
    api("POST", "/api/reports/plans", { plans: plans }).then(function (r) {
      return load().then(function () {
        msg("good", S["plans.saved"].replace("{written}", r.written).replace("{removed}", r.removed));
      });
    }).catch(function (e) { msg("bad", S.error + ": " + e.message); });
  }
  function importCsv(file) {
    if (!file.files.length) { file.click(); return; }
    msg("wait", S.saving);
    fetch("/api/reports/plans.csv", { method: "POST", body: file.files[0],
      headers: { "X-B24App-Session": cfg.session, "Content-Type": "text/csv" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error_description || j.error || ("HTTP " + r.status));
        return j;
      });
    }).then(function (j) {
      return load().then(function () { msg("good", S["plans.imported"].replace("{lines}", j.lines)); });
    }).catch(function (e) { msg("bad", S.error + ": " + e.message); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); save(); });
  document.addEventListener("b24app:tab", function (e) {
    if (e.detail === "plans" && !loaded) { loaded = true; load(); }
    if (e.detail === "feed") feedLoad();
  });

  /* the feed's token */
  var feedBox = document.querySelector("[data-b24app=feed]");
  function feedRender(info, token) {
    var parts = [el("h2", { text: S.feed }), el("p", { "class": "muted", text: S["feed.hint"].replace("{url}", cfg.feed_url) }),
      el("p", { "data-b24app": "feed-state", text: info.exists ? S["feed.exists"].replace("{at}", B24.i18n.when(Date.parse(info.created_at) / 1000)) : S["feed.none"] })];
    if (token) parts.push(el("p", {}, S["feed.shown_once"]), el("input", { type: "text", readonly: "readonly", "data-b24app": "feed-token", value: token }));
    parts.push(el("div", { "class": "actions" },
      el("button", { type: "button", "class": "primary", "data-b24app": "feed-rotate", text: S["feed.rotate"], on: { click: function () {
        api("POST", "/api/reports/feed-token").then(function (j) { feedRender(j, j.token); });
      } } }),
      info.exists ? el("button", { type: "button", "data-b24app": "feed-revoke", text: S["feed.revoke"], on: { click: function () {
        api("DELETE", "/api/reports/feed-token").then(function () { feedRender({ exists: false }); });
      } } }) : null));
    feedBox.replaceChildren.apply(feedBox, parts);
    feedBox.setAttribute("data-b24app-ready", "1");
    B24.fit.watch(document.body);
  }
  function feedLoad() {
    if (!feedBox) return;
    api("GET", "/api/reports/feed-token").then(function (info) { feedRender(info); })
      .catch(function (e) { feedBox.textContent = S.error + ": " + e.message; });
  }
})();
