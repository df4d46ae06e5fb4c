/* Intake screen: a phone → the client (contacts, company card), their equipment with the warranty left,
   recent deals, and a new service request. Every portal string goes into the DOM via textContent. */
(function () {
  "use strict";
  var cfg = B24.cfg, S = B24.s, el = B24.el, api = B24.api;
  var statusEl = document.getElementById("status"), result = document.getElementById("result");
  var phoneEl = document.querySelector("[data-b24app=phone]");

  function status(text, cls) { B24.say(statusEl, text, cls || "muted"); }
  function open(path) {
    return el("a", { "class": "link", "data-path": path, text: S.open, on: { click: function (ev) {
      ev.preventDefault();
      if (window.BX24 && BX24.openPath) BX24.openPath(path);
    } } });
  }
  function badge(on) {
    if (on === true) return el("span", { "class": "badge on", "data-b24app": "badge", text: S.on_warranty });
    if (on === false) return el("span", { "class": "badge off", "data-b24app": "badge", text: S.expired });
    return el("span", { "class": "badge unknown", "data-b24app": "badge", text: S.unknown });
  }
  function num(v) { return v == null ? "—" : String(v); }

  function equipmentTable(company, group) {
    group = group || String(company.id);
    if (!company.equipment.length) return el("p", { "class": "muted", text: S.no_equipment });
    var head = el("tr", null, ["", S.model, S.serial, S.purchase, S.warranty_end, S.days_left, S.hours_left, "", "", S.warranty]
      .map(function (h) { return el("th", { text: h }); }));
    var rows = company.equipment.map(function (q) {
      return el("tr", { "data-b24app": "equipment", "data-id": String(q.id) },
        el("td", null, el("input", { type: "radio", name: "equipment-" + group, value: String(q.id),
                                     "aria-label": S.select })),
        el("td", { text: q.model || q.title }), el("td", { text: q.serial }), el("td", { text: q.purchase_date }),
        el("td", { text: q.warranty_end }), el("td", { "data-b24app": "days-left", text: num(q.days_left) }),
        el("td", { "data-b24app": "hours-left", text: num(q.hours_left) }), el("td", null, badge(q.on_warranty)),
        el("td", null, open(q.path)),
        el("td", { "data-b24app": "warranty-text", "data-decided-by": q.decided_by || "", text: q.warranty_text || "" }));
    });
    return el("table", { "data-b24app": "equipment-table" }, el("thead", null, head), el("tbody", null, rows));
  }
  function dealList(title, deals, key) {
    var box = el("div", { "data-b24app": key }, el("h3", { text: title }));
    if (!deals.length) { box.appendChild(el("p", { "class": "muted", text: S.no_deals })); return box; }
    box.appendChild(el("ul", null, deals.map(function (d) {
      return el("li", { "data-b24app": "deal", "data-id": String(d.id) },
        d.title + " — " + d.stage + (d.closed_on ? " (" + d.closed_on + ")" : "") + " ", open(d.path));
    })));
    return box;
  }
  function requestForm(phone, companyId, contactId, group) {
    group = group || (companyId ? String(companyId) : "");
    var comment = el("textarea", { rows: "2", name: "comment", placeholder: S.comment });
    var msg = el("p", { "data-b24app": "request-msg", "class": "muted" });
    var kind = el("select", { name: "request_type", "data-b24app": "request-type" },
      [["", S.plain_request], ["repair", S.repair], ["maintenance", S.maintenance], ["presale", S.presale]]
        .map(function (o) { return el("option", { value: o[0], text: o[1] }); }));
    var proposal = el("span", { "data-b24app": "proposal", "class": "muted" });
    function pickedMachine() {
      return group ? document.querySelector("input[name=equipment-" + group + "]:checked") : null;
    }
    function propose() {       // the scenario the machine's warranty and the request type give
      var picked = pickedMachine();
      proposal.textContent = ""; proposal.removeAttribute("data-scenario");
      if (!kind.value || !picked) return;
      api("GET", "/api/desk/propose?equipment_id=" + encodeURIComponent(picked.value) + "&request_type=" + kind.value)
        .then(function (r) {
          proposal.textContent = S.scenario + ": " + (S.scenarios[r.scenario] || r.scenario);
          proposal.setAttribute("data-scenario", r.scenario);
        }, function (e) { proposal.textContent = e.message; });
    }
    kind.addEventListener("change", propose);
    if (group) {
      window.setTimeout(function () {
        Array.prototype.forEach.call(document.querySelectorAll("input[name=equipment-" + group + "]"), function (r) {
          r.addEventListener("change", propose);
        });
      }, 0);
    }
    var btn = el("button", { type: "button", "data-b24app": "new-request", text: S.new_request, on: { click: function () {
      var picked = pickedMachine();
      btn.disabled = true;
      var body = { phone: phone, company_id: companyId || null, contact_id: contactId || null,
                   equipment_id: picked ? Number(picked.value) : null, comment: comment.value };
      if (kind.value) body.request_type = kind.value;
      if (currentCall) body.call_id = currentCall;
      api("POST", "/api/desk/request", body)
        .then(function (r) {
          msg.className = ""; msg.textContent = S.created + ": " + r.title;
          msg.setAttribute("data-deal-id", String(r.deal_id));
          if (window.BX24 && BX24.openPath) BX24.openPath(r.path);
        }, function (e) { msg.className = "error"; msg.textContent = S.error + ": " + e.message; })
        .then(function () { btn.disabled = false; });
    } } });
    return el("div", { "data-b24app": "request" }, comment, el("div", null, kind, " ", btn, " ", proposal), msg);
  }
  // An unknown number: search the client by name or INN, or create the client and the machine in one step.
  function field(name, label, attrs) {
    return el("label", null, label + " ", el("input", Object.assign({ name: name }, attrs || {})));
  }
  function unknownCaller(phone) {
    var box = el("div", { "class": "card", "data-b24app": "unknown" });
    var q = el("input", { name: "q", "data-b24app": "search-q", placeholder: S.search_hint });
    var found = el("ul", { "data-b24app": "search-results" });
    box.appendChild(el("h2", { text: S.search_title }));
    box.appendChild(el("div", null, q, " ", el("button", { type: "button", "data-b24app": "search", text: S.find,
      on: { click: function () {
        api("GET", "/api/desk/search?q=" + encodeURIComponent(q.value)).then(function (r) {
          found.textContent = "";
          r.companies.concat(r.contacts).forEach(function (x) {
            var phones = x.phones || [];
            found.appendChild(el("li", { "data-b24app": "search-hit" }, (x.title || x.name) +
              (x.inn ? " · " + S.inn + " " + x.inn : "") + (x.address ? " · " + x.address : "") + " ",
              phones.length ? el("button", { type: "button", text: S.select, on: { click: function () {
                phoneEl.value = phones[0]; find();
              } } }) : null));
          });
          if (!found.children.length) found.appendChild(el("li", { "class": "muted", text: S.nothing_found }));
          found.setAttribute("data-loaded", String(found.children.length));
        }, function (e) {
          found.textContent = ""; found.appendChild(el("li", { "class": "error", text: e.message }));
          found.setAttribute("data-loaded", "error");
        });
      } } })));
    box.appendChild(found);
    var kind = el("select", { name: "kind" }, el("option", { value: "company", text: S.kind_company }),
                  el("option", { value: "person", text: S.kind_person }));
    var form = el("form", { "data-b24app": "new-client" },
      el("h3", { text: S.new_client }), el("label", null, S.kind + " ", kind),
      el("fieldset", null, field("company_title", S.company_title), field("inn", S.inn, { inputmode: "numeric" })),
      el("fieldset", null, field("name", S.contact_name), field("last_name", S.last_name)),
      el("fieldset", null, el("legend", { text: S.machine }), field("model", S.model), field("serial", S.serial),
         field("purchase_date", S.purchase, { type: "date" }), field("price", S.price, { type: "number", step: "any" }),
         field("manufacturer", S.manufacturer), field("warranty_end", S.warranty_end, { type: "date" }),
         field("warranty_hours", S.warranty_hours, { type: "number", step: "any" }),
         field("hours_used", S.hours_used, { type: "number", step: "any" })),
      el("button", { type: "submit", "data-b24app": "create-client", text: S.create_client }),
      el("p", { "data-b24app": "new-client-msg", "class": "muted" }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = function (n) { return form.querySelector("[name=" + n + "]").value.trim(); };
      var num = function (n) { return v(n) === "" ? null : Number(v(n)); };
      var machine = v("model") ? { model: v("model"), serial: v("serial"), purchase_date: v("purchase_date") || null,
        price: num("price"), manufacturer: v("manufacturer"), warranty_end: v("warranty_end") || null,
        warranty_hours: num("warranty_hours"), hours_used: num("hours_used") } : null;
      var body = { phone: phone, kind: kind.value, contact: { name: v("name"), last_name: v("last_name") } };
      if (kind.value === "company") body.company = { title: v("company_title"), inn: v("inn") };
      if (machine) body.machine = machine;
      var msg = form.querySelector("[data-b24app=new-client-msg]");
      api("POST", "/api/desk/client", body).then(function (r) { render(r.card); },
        function (e) { B24.say(msg, e.message, "error"); });
    });
    box.appendChild(form);
    return box;
  }

  function render(doc) {
    result.textContent = "";
    if (!doc.found) {
      status(doc.message, "muted");
      result.appendChild(unknownCaller(doc.phone));
      document.body.setAttribute("data-b24app-loaded", "none");
      B24.fit();
      return;
    }
    status(doc.phone);
    if (doc.contacts.length) {
      result.appendChild(el("h2", { text: S.contacts }));
      result.appendChild(el("ul", { "data-b24app": "contacts" }, doc.contacts.map(function (c) {
        return el("li", { "data-b24app": "contact", "data-id": String(c.id) },
          c.name + (c.post ? ", " + c.post : "") + " · " + c.phones.join(", ") + " ", open(c.path),
          c.deals ? el("div", null,
                       c.equipment && c.equipment.length ? equipmentTable(c, "c" + c.id) : null,
                       dealList(S.deals_open, c.deals.open, "deals-open"),
                       dealList(S.deals_closed, c.deals.closed, "deals-closed"),
                       requestForm(doc.phone, null, c.id, "c" + c.id)) : null);
      })));
    }
    doc.companies.forEach(function (co) {
      var contact = doc.contacts.filter(function (c) { return c.company_id === co.id; })[0];
      result.appendChild(el("div", { "class": "card", "data-b24app": "company", "data-id": String(co.id) },
        el("h2", null, el("span", { "data-b24app": "company-title", text: co.title }), " ", open(co.path)),
        el("p", { "class": "muted", text: [co.address].concat(co.phones).filter(Boolean).join(" · ") }),
        co.counterparty_checked === false ? el("p", { "class": "error", "data-b24app": "cp-unchecked",
                                                      text: S.cp_unchecked }) : null,
        el("h3", { text: S.equipment }), equipmentTable(co),
        dealList(S.deals_open, co.deals.open, "deals-open"), dealList(S.deals_closed, co.deals.closed, "deals-closed"),
        requestForm(doc.phone, co.id, contact ? contact.id : null)));
    });
    document.body.setAttribute("data-b24app-loaded", doc.phone);
    B24.fit();
  }
  var binding = null;          // the call card's CRM binding (getStatus): that client is on the card too
  function find(ev) {
    if (ev) ev.preventDefault();
    document.body.removeAttribute("data-b24app-loaded");
    status(S.searching);
    result.textContent = "";
    var q = "/api/desk/lookup?phone=" + encodeURIComponent(phoneEl.value);
    if (binding) q += "&entity_type=" + binding.type + "&entity_id=" + binding.id;
    api("GET", q).then(render, function (e) {
      status(S.error + ": " + e.message, "error");
      document.body.setAttribute("data-b24app-loaded", "error");
    });
  }
  document.getElementById("find").addEventListener("submit", find);

  // The call pops the client: in the call card (CALL_CARD) the portal's getStatus() gives the number; on the
  // dispatcher's page the calls ringing on the dispatcher lines are asked for every few seconds.
  var currentCall = null, callBox = document.getElementById("call");
  function showCall(call) {
    currentCall = call.call_id;
    callBox.textContent = "";
    callBox.appendChild(el("strong", { text: (call.state === "ringing" ? S.ringing : S.talking) + ": " }));
    callBox.appendChild(el("span", { "data-b24app": "call-phone", text: call.phone }));
    callBox.hidden = false;
    callBox.setAttribute("data-call-id", call.call_id);
    phoneEl.value = call.phone;
    render(call.card);
  }
  function poll() {
    api("GET", "/api/desk/calls" + (currentCall ? "?seen=" + encodeURIComponent(currentCall) : "")).then(function (r) {
      var call = (r.calls || [])[0];
      if (call && call.call_id !== currentCall) showCall(call);
    }, function () {}).then(function () { window.setTimeout(poll, 3000); });
  }
  if (cfg.mode === "call_card") {
    B24.fit.ready(function () {
      BX24.placement.call("getStatus", {}, function (st) {
        if (st && st.PHONE_NUMBER) {
          currentCall = st.CALL_ID || null;
          if ((st.CRM_ENTITY_TYPE === "COMPANY" || st.CRM_ENTITY_TYPE === "CONTACT") && Number(st.CRM_ENTITY_ID) > 0) {
            binding = { type: st.CRM_ENTITY_TYPE, id: Number(st.CRM_ENTITY_ID) };
          }
          phoneEl.value = st.PHONE_NUMBER; find();
        }
      });
    });
  } else if (cfg.phone) { phoneEl.value = cfg.phone; find(); }
  else { poll(); }
  document.body.setAttribute("data-b24app-ready", "1");
})();
