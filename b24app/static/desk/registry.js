/* The work-order registry: every order at its computed stage, coloured by its status; the order opens in
   the portal. Every portal string goes into the DOM via textContent. */
(function () {
  "use strict";
  var S = B24.s, el = B24.el, api = B24.api;
  var rows = document.getElementById("rows"), statusEl = document.getElementById("status");
  var FIELDS = B24.cfg.fields || {};
  function when(o) {
    if (!o.job_from) return "";
    return String(o.job_from).slice(0, 16).replace("T", " ") + " – " + String(o.job_to || "").slice(11, 16);
  }
  function row(o) {
    var link = el("a", { "class": "link", text: o.title, on: { click: function (ev) {
      ev.preventDefault(); if (window.BX24 && BX24.openPath) BX24.openPath(o.path);
    } } });
    return el("tr", { "data-b24app": "order", "data-id": String(o.id), "data-status": o.status,
                      "class": "status-" + o.status },
      el("td", null, link), el("td", { text: S.scenarios[o.scenario] || o.scenario }),
      el("td", { "data-b24app": "stage", text: S.stages[o.stage] || o.stage || "" }),
      el("td", null, el("span", { "class": "badge status-" + o.status, "data-b24app": "status-badge",
                                  text: S.statuses[o.status] || o.status })),
      el("td", { text: FIELDS[o.decided_by] || "" }), el("td", { text: o.mechanic_name || "" }),
      el("td", { text: when(o) }), el("td", { text: o.tool_cell || "" }), el("td", { text: o.parts_date || "" }));
  }
  api("GET", "/api/desk/orders").then(function (r) {
    rows.textContent = "";
    r.orders.forEach(function (o) { rows.appendChild(row(o)); });
    B24.say(statusEl, r.orders.length ? "" : S.empty, "muted");
    document.body.setAttribute("data-b24app-loaded", String(r.orders.length));
    B24.fit();
  }, function (e) {
    B24.say(statusEl, e.message, "error");
    document.body.setAttribute("data-b24app-loaded", "error");
  });
  document.body.setAttribute("data-b24app-ready", "1");
})();
