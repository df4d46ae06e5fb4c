/* The machine's card (the Equipment item's detail tab): owner, price, manufacturer, warranty left in words,
   hours, every work order linked to it and the repair reasons. Portal strings via textContent only. */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, el = B24.el, api = B24.api;
  var statusEl = document.getElementById("status");
  function fact(label, value) { return el("div", null, el("span", { "class": "muted", text: label + ": " }),
                                          el("span", { text: value == null || value === "" ? "—" : String(value) })); }
  if (!cfg.equipment_id) { B24.say(statusEl, S.no_machine, "error"); return; }
  api("GET", "/api/desk/equipment/" + cfg.equipment_id).then(function (m) {
    document.querySelector("[data-b24app=machine-title]").textContent = m.model + (m.serial ? " · " + m.serial : "");
    var facts = document.getElementById("facts");
    [[S.manufacturer, m.manufacturer], [S.purchase, m.purchase_date], [S.price, m.price],
     [S.warranty_end, m.warranty_end], [S.warranty_hours, m.warranty_hours], [S.hours_used, m.hours_used]]
      .forEach(function (f) { facts.appendChild(fact(f[0], f[1])); });
    facts.appendChild(el("p", null, el("span", { "class": "badge " + (m.on_warranty ? "on" : "off"),
                                                 "data-b24app": "warranty-text", text: m.warranty_text })));
    var body = document.getElementById("orders");
    m.orders.forEach(function (o) {
      body.appendChild(el("tr", { "data-b24app": "machine-order", "data-id": String(o.id) },
        el("td", null, el("a", { "class": "link", text: o.title, on: { click: function (ev) {
          ev.preventDefault(); if (window.BX24 && BX24.openPath) BX24.openPath(o.path); } } })),
        el("td", { text: S.scenarios[o.scenario] || o.scenario }), el("td", { text: S.stages[o.stage] || o.stage || "" }),
        el("td", { text: o.reason }), el("td", { text: o.hours == null ? "" : String(o.hours) }),
        el("td", { text: o.created })));
    });
    var reasons = document.getElementById("reasons");
    m.reasons.forEach(function (r) { reasons.appendChild(el("li", { text: r.reason + " — " + r.count })); });
    if (!m.orders.length) B24.say(statusEl, S.no_orders, "muted"); else B24.say(statusEl, "", "muted");
    document.body.setAttribute("data-b24app-loaded", String(m.orders.length));
    B24.fit();
  }, function (e) {
    B24.say(statusEl, e.message, "error");
    document.body.setAttribute("data-b24app-loaded", "error");
  });
  document.body.setAttribute("data-b24app-ready", "1");
})();
