/* The deal tab of the calculation → work flow: the calculation's stage, the engineer's question with an
   answer form, the variants side by side (lines, totals, margin) with "choose", then "order work".
   Every portal string goes into the DOM via textContent (B24.el). */
(function () {
  "use strict";
  var cfg = B24.cfg, S = cfg.s, el = B24.el, api = B24.api;
  var statusEl = document.getElementById("status"), box = document.getElementById("calc");

  function status(text, cls) { B24.say(statusEl, text, cls || "muted"); }
  function fail(e) { status(S.error + ": " + e.message, "error"); }
  function stage(key) { return (S.stages && S.stages[key]) || key; }

  function variantCard(calc, v) {
    var chosen = calc.chosen && calc.chosen.variant === v.id;
    var choosable = !chosen && calc.stage === "done" && cfg.can.request && !calc.pending_approval;
    var head = el("tr", null, [S.name, S.qty, S.coef, S.price, S.amount].map(function (h, i) {
      return el("th", { "class": i ? "num" : "", text: h });
    }));
    var amounts = {};
    var rows = v.lines.map(function (x) {
      // the manager may change a line's amount (within the administrator's range; beyond it: the head)
      var cell = choosable ? el("input", { value: x.amount, size: "9", inputmode: "decimal", "data-b24app": "amount",
                                           "data-n": String(x.n), on: { input: function (ev) {
        if (ev.target.value === x.amount) delete amounts[x.n]; else amounts[x.n] = ev.target.value;
      } } }) : x.amount;
      return el("tr", { "data-b24app": "line" }, el("td", { text: x.name }), el("td", { "class": "num", text: x.quantity }),
        el("td", { "class": "num", text: x.coefficient || "—" }), el("td", { "class": "num", text: x.price }),
        el("td", { "class": "num" }, cell));
    });
    var card = el("div", { "class": "variant" + (chosen ? " chosen" : ""), "data-b24app": "variant", "data-id": v.id },
      el("h3", { "data-b24app": "variant-name", text: v.name }),
      el("table", null, el("thead", null, head), el("tbody", null, rows)),
      el("p", { "class": "total", "data-b24app": "variant-total", text: S.total + ": " + v.total }),
      el("p", { "class": "muted", text: S.margin + ": " + v.margin + " (" + v.margin_pct + " %)" }));
    if (chosen) {
      card.appendChild(el("span", { "class": "badge", "data-b24app": "chosen", text: S.chosen }));
      var doc = calc.chosen.document;
      if (doc && (doc.pdf || doc.url)) {
        card.appendChild(el("p", null, el("a", { href: doc.pdf || doc.url, target: "_blank", rel: "noopener",
                                                 "data-b24app": "document", text: doc.title })));
      } else if (doc) card.appendChild(el("p", { "class": "muted", "data-b24app": "document", text: doc.title }));
    } else if (choosable) {
      var ask = el("div", { "data-b24app": "ask-approval", hidden: true });
      card.appendChild(el("button", { type: "button", "data-b24app": "choose", text: S.choose, on: { click: function () {
        api("POST", "/api/calc/" + calc.id + "/choose", { variant: v.id, amounts: amounts }).then(load, function (e) {
          fail(e);
          if (e.body && e.body.error === "APPROVAL_REQUIRED") {       // beyond the range: offer to ask the head
            ask.textContent = "";
            var reason = el("textarea", { rows: "2", name: "reason", placeholder: S.reason });
            ask.appendChild(reason);
            ask.appendChild(el("button", { type: "button", "data-b24app": "request-approval", text: S.request_approval,
                                           on: { click: function () {
              api("POST", "/api/calc/" + calc.id + "/choose", { variant: v.id, amounts: amounts, request_approval: true,
                                                               reason: reason.value }).then(load, fail);
            } } }));
            ask.hidden = false;
            B24.fit();
          }
        });
      } } }));
      card.appendChild(ask);
    }
    return card;
  }

  function approvalBox(calc) {
    var a = calc.pending_approval;
    var wrap = el("div", { "class": "approval", "data-b24app": "approval", "data-n": String(a.n) },
      el("strong", { text: S.approval + ": " + a.variant_name + " — " + S.total + " " + a.total + " (" + S.pending + ")" }),
      el("ul", null, a.beyond.map(function (b) {
        return el("li", { text: b.name + ": " + b.amount + " (" + b.low + "–" + b.high + ")" });
      })),
      a.reason ? el("p", { "class": "muted", text: S.reason + ": " + a.reason }) : null);
    if (cfg.can.head) {
      ["approve", "decline"].forEach(function (d) {
        wrap.appendChild(el("button", { type: "button", "data-b24app": d, text: S[d], on: { click: function () {
          api("POST", "/api/calc/" + calc.id + "/approvals/" + a.n + "/" + d, {}).then(load, fail);
        } } }));
      });
    }
    return wrap;
  }

  function questionBox(calc) {
    var q = calc.pending_question;
    var wrap = el("div", { "class": "question", "data-b24app": "question" },
      el("strong", { text: S.question + ": " }), el("span", { text: q.text }));
    if (cfg.can.request) {
      var input = el("textarea", { rows: "2", name: "answer", placeholder: S.your_answer });
      wrap.appendChild(input);
      wrap.appendChild(el("button", { type: "button", "data-b24app": "answer", text: S.answer, on: { click: function () {
        api("POST", "/api/calc/" + calc.id + "/answer", { text: input.value }).then(load, fail);
      } } }));
    }
    return wrap;
  }

  function render(doc) {
    box.textContent = "";
    var calc = doc.calculations[0];
    if (!calc) {
      status(S.none);
      if (cfg.can.request) {
        var comment = el("textarea", { rows: "2", name: "comment", placeholder: S.comment });
        box.appendChild(comment);
        box.appendChild(el("button", { type: "button", "data-b24app": "send", text: S.send, on: { click: function () {
          api("POST", "/api/calc/request", { deal_id: Number(cfg.deal_id), comment: comment.value }).then(load, fail);
        } } }));
      }
    } else {
      status(S.stage + ": " + stage(calc.stage));
      box.setAttribute("data-stage", calc.stage);
      if (calc.pending_question) box.appendChild(questionBox(calc));
      if (calc.pending_approval) box.appendChild(approvalBox(calc));
      box.appendChild(el("h2", { text: S.variants }));
      if (!calc.variants.length) box.appendChild(el("p", { "class": "muted", text: S.no_variants }));
      box.appendChild(el("div", { "class": "variants", "data-b24app": "variants" },
        calc.variants.map(function (v) { return variantCard(calc, v); })));
      if (calc.chosen && !doc.open_work && !(doc.works || []).length && cfg.can.request) {
        var contract = el("input", { name: "contract", placeholder: S.contract });
        box.appendChild(el("div", { "data-b24app": "order-box" }, contract,
          el("button", { type: "button", "data-b24app": "order", text: S.order, on: { click: function () {
            api("POST", "/api/work/order", { deal_id: Number(cfg.deal_id), contract: contract.value }).then(load, fail);
          } } })));
      }
      if ((doc.works || []).length) {
        box.appendChild(el("p", { "data-b24app": "works", text: S.works + ": " + doc.works.map(function (w) {
          return "#" + w; }).join(", ") }));
      }
    }
    document.body.setAttribute("data-b24app-loaded", calc ? calc.stage + (calc.chosen ? ":" + calc.chosen.variant : "") +
                                                       (calc.pending_approval ? ":approval" : "") : "none");
    B24.fit();
  }

  function load() {
    document.body.removeAttribute("data-b24app-loaded");
    status("");
    api("GET", "/api/calc/deal/" + encodeURIComponent(cfg.deal_id)).then(render, function (e) {
      fail(e);
      document.body.setAttribute("data-b24app-loaded", "error");
    });
  }
  load();
  document.body.setAttribute("data-b24app-ready", "1");
})();
