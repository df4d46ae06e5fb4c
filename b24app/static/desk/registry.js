/* The work-order registry: every order at its computed stage, coloured by its status. A click opens the
   order's panel: the engineer fills his block (tool cell, parts and their date, diagnostic trip, block done)
   and sends the manufacturer's request / attaches the reclamation act; the service head picks a mechanic
   from those free for the window (the server checks it again) and reschedules. Each person sees only the
   blocks their role fills. Every portal string goes into the DOM via textContent. */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, el = B24.el, api = B24.api;
  var rows = document.getElementById("rows"), statusEl = document.getElementById("status");
  var panel = document.getElementById("panel");
  var FIELDS = cfg.fields || {}, CAN = cfg.can || {};
  var byId = {};

  function when(o) {
    if (!o.job_from) return "";
    return String(o.job_from).slice(0, 16).replace("T", " ") + " – " + String(o.job_to || "").slice(11, 16);
  }
  function row(o) {
    var link = el("a", { "class": "link", text: o.title, on: { click: function (ev) {
      ev.preventDefault(); ev.stopPropagation(); if (window.BX24 && BX24.openPath) BX24.openPath(o.path);
    } } });
    return el("tr", { "data-b24app": "order", "data-id": String(o.id), "data-status": o.status,
                      "class": "status-" + o.status, on: { click: function () { openPanel(o.id); } } },
      el("td", null, link), el("td", { text: S.scenarios[o.scenario] || o.scenario }),
      el("td", { "data-b24app": "stage", text: S.stages[o.stage] || o.stage || "" }),
      el("td", null, el("span", { "class": "badge status-" + o.status, "data-b24app": "status-badge",
                                  text: S.statuses[o.status] || o.status })),
      el("td", { "data-b24app": "decided-by", text: FIELDS[o.decided_by] || "" }),
      el("td", { "data-b24app": "mechanic", text: o.mechanic_name || "" }),
      el("td", { text: when(o) }), el("td", { text: o.tool_cell || "" }), el("td", { text: o.parts_date || "" }));
  }
  function load() {
    return api("GET", "/api/desk/orders").then(function (r) {
      rows.textContent = "";
      byId = {};
      r.orders.forEach(function (o) { byId[o.id] = o; rows.appendChild(row(o)); });
      B24.say(statusEl, r.orders.length ? "" : S.empty, "muted");
      document.body.setAttribute("data-b24app-loaded", String(r.orders.length));
      B24.fit();
    }, function (e) {
      B24.say(statusEl, e.message, "error");
      document.body.setAttribute("data-b24app-loaded", "error");
    });
  }
  function saved(msg, text) {
    var key = msg.getAttribute("data-b24app"), id = panel.getAttribute("data-id");
    return function () {
      return load().then(function () {
        openPanel(Number(id));
        var again = panel.querySelector("[data-b24app=" + key + "]");
        if (again) { B24.say(again, text, "ok"); again.setAttribute("data-done", "1"); }
      });
    };
  }
  function failed(msg) { return function (e) { B24.say(msg, e.message, "error"); }; }

  function check(name, value, label) {
    var box = el("input", { type: "checkbox", name: name });
    box.checked = !!value;
    return el("label", null, box, " " + label);
  }
  function engineerBlock(o) {
    var msg = el("p", { "data-b24app": "engineer-msg", "class": "muted" });
    var cell = el("input", { name: "tool_cell", value: o.tool_cell || "", size: "8" });
    var date = el("input", { name: "parts_date", type: "date", value: o.parts_date || "" });
    var reason = el("input", { name: "reason", value: o.reason || "", size: "40" });
    var boxes = [check("parts_ordered", o.parts_ordered, S.parts_ordered), check("parts_arrived", o.parts_arrived, S.parts_arrived),
                 check("diag_trip", o.diag_trip, S.diag_trip), check("diag_done", o.diag_done, S.diag_done),
                 check("parts_payment", o.parts_payment, S.parts_payment), check("done", o.engineer_done, S.engineer_done)];
    var form = el("fieldset", { "data-b24app": "engineer-block" }, el("legend", { text: S.engineer_block }),
      el("label", null, S.reason + " ", reason), el("label", null, S.tool_cell + " ", cell),
      el("label", null, S.parts_date + " ", date), el("div", null, boxes),
      el("button", { type: "button", "class": "primary", "data-b24app": "save-engineer", text: S.save, on: { click: function () {
        var body = { tool_cell: cell.value, reason: reason.value, parts_date: date.value || null };
        boxes.forEach(function (b) { var i = b.querySelector("input"); body[i.name] = i.checked; });
        api("PUT", "/api/desk/orders/" + o.id + "/engineer", body).then(saved(msg, S.saved), failed(msg));
      } } }), msg);
    if (String(o.scenario).indexOf("svc_warranty") === 0) form.appendChild(claimBlock(o));
    return form;
  }
  function claimBlock(o) {
    var msg = el("p", { "data-b24app": "claim-msg", "class": "muted" });
    var to = el("p", { "data-b24app": "claim-to", "class": "muted" });
    var number = el("input", { name: "act_number", size: "10" });
    var file = el("input", { type: "file", name: "act_file" });
    var approved = el("input", { type: "checkbox", name: "approved" });
    approved.checked = true;
    api("GET", "/api/desk/orders/" + o.id + "/claim").then(function (d) {
      to.textContent = d.to ? (d.manufacturer + " <" + d.to + ">: " + d.subject) : S.no_manufacturer;
    }, failed(to));
    return el("div", { "data-b24app": "claim" }, el("h4", { text: S.claim }), to,
      el("button", { type: "button", "data-b24app": "send-claim", text: S.send_claim, on: { click: function () {
        api("POST", "/api/desk/orders/" + o.id + "/claim", {}).then(saved(msg, S.claim_sent), failed(msg));
      } } }),
      el("div", null, el("label", null, S.act_number + " ", number), el("label", null, file),
         el("label", null, approved, " " + S.approved),
         el("button", { type: "button", "data-b24app": "attach-act", text: S.attach_act, on: { click: function () {
           var f = file.files && file.files[0];
           if (!f) { B24.say(msg, S.act_file_needed, "error"); return; }
           var reader = new FileReader();
           reader.onload = function () {
             var b64 = String(reader.result).split(",")[1] || "";
             api("POST", "/api/desk/orders/" + o.id + "/act", { number: number.value, approved: approved.checked,
                                                                 file: { name: f.name, content_base64: b64 } })
               .then(saved(msg, S.act_attached), failed(msg));
           };
           reader.readAsDataURL(f);
         } } })), msg);
  }
  function headBlock(o) {
    var msg = el("p", { "data-b24app": "head-msg", "class": "muted" });
    var day = el("input", { type: "date", name: "day", value: o.job_from ? String(o.job_from).slice(0, 10) : "" });
    var from = el("input", { type: "time", name: "from", value: o.job_from ? String(o.job_from).slice(11, 16) : "09:00" });
    var to = el("input", { type: "time", name: "to", value: o.job_to ? String(o.job_to).slice(11, 16) : "12:00" });
    var pick = el("select", { name: "mechanic", "data-b24app": "mechanic-pick" });
    var go = el("button", { type: "button", "class": "primary", "data-b24app": "assign", text: o.mechanic ? S.reschedule : S.assign,
                            disabled: "disabled" });
    function window_() { return { start: day.value + "T" + from.value, end: day.value + "T" + to.value }; }
    var find = el("button", { type: "button", "data-b24app": "find-mechanics", text: S.find_mechanics, on: { click: function () {
      var w = window_();
      api("GET", "/api/desk/orders/" + o.id + "/mechanics?start=" + encodeURIComponent(w.start) + "&end=" +
          encodeURIComponent(w.end)).then(function (r) {
        pick.textContent = "";
        r.free.forEach(function (m) { pick.appendChild(el("option", { value: String(m.id), text: m.name })); });
        r.busy.forEach(function (m) {
          pick.appendChild(el("option", { value: String(m.id), disabled: "disabled",
                                          text: m.name + " — " + (S.why[m.busy[0].why] || m.busy[0].why) }));
        });
        if (r.free.length) go.removeAttribute("disabled"); else go.setAttribute("disabled", "disabled");
        pick.setAttribute("data-loaded", String(r.free.length));
        B24.say(msg, r.free.length ? "" : S.nobody_free, r.free.length ? "muted" : "error");
      }, failed(msg));
    } } });
    go.addEventListener("click", function () {
      var w = window_();
      var path = "/api/desk/orders/" + o.id + (o.mechanic ? "/reschedule" : "/assign");
      api("POST", path, { mechanic_id: Number(pick.value), start: w.start, end: w.end })
        .then(saved(msg, S.assigned), failed(msg));
    });
    return el("fieldset", { "data-b24app": "head-block" }, el("legend", { text: S.head_block }),
      el("label", null, S.day + " ", day), el("label", null, S.from + " ", from), el("label", null, S.to + " ", to),
      find, el("div", null, el("label", null, S.mechanic + " ", pick), go), msg);
  }
  function openPanel(id) {
    var o = byId[id];
    if (!o) return;
    Array.prototype.forEach.call(rows.children, function (tr) {
      tr.classList.toggle("picked", tr.getAttribute("data-id") === String(id));
    });
    panel.textContent = "";
    panel.hidden = false;
    panel.setAttribute("data-id", String(id));
    panel.appendChild(el("h3", { text: o.title }));
    panel.appendChild(el("p", { "class": "muted", text: (S.stages[o.stage] || o.stage) +
                                (o.decided_by ? " · " + S.decided_by + ": " + (FIELDS[o.decided_by] || o.decided_by) : "") }));
    if (CAN.engineer) panel.appendChild(engineerBlock(o));
    if (CAN.head) panel.appendChild(headBlock(o));
    B24.fit();
  }
  function stats() {
    api("GET", "/api/desk/stats/reasons").then(function (r) {
      var body = document.getElementById("stats");
      body.textContent = "";
      r.models.forEach(function (m) {
        body.appendChild(el("tr", { "data-b24app": "stats-model" }, el("td", { text: m.model }),
          el("td", { text: String(m.orders) }),
          el("td", { text: m.reasons.map(function (x) { return x.reason + " — " + x.count; }).join("; ") })));
      });
      body.setAttribute("data-loaded", String(r.models.length));
      B24.fit();
    }, function () {});
  }
  load();
  stats();
  document.body.setAttribute("data-b24app-ready", "1");
})();
