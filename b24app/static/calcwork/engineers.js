/* The engineers' list: open calculations as a kanban by stage (requested / in work / information
   requested) for "mine / my group / unassigned" (and "all" for heads), with the waiting time and "take".
   Text only through textContent (B24.el). */
(function () {
  "use strict";
  var cfg = B24.cfg, S = cfg.s, el = B24.el, api = B24.api;
  var board = document.getElementById("board"), statusEl = document.getElementById("status");
  var scopes = document.querySelector("[data-b24app=scopes]");
  var scope = "group";

  function fail(e) { B24.say(statusEl, S.error + ": " + e.message, "error"); }
  function card(c) {
    var node = el("div", { "class": "variant", "data-b24app": "card", "data-id": String(c.id) },
      el("strong", { "data-b24app": "card-title", text: c.title }),
      el("p", { "class": "muted", "data-b24app": "waiting", text: S.waiting + ": " + c.waiting_hours }));
    if (c.stage !== "new" && cfg.can.engineer) {
      node.appendChild(el("button", { type: "button", "data-b24app": "open", text: S.open, on: { click: function () {
        B24.builder.open(c.id);
      } } }));
    }
    if (c.stage === "new" && cfg.can.engineer) {
      node.appendChild(el("button", { type: "button", "data-b24app": "take", text: S.take, on: { click: function () {
        api("POST", "/api/calc/" + c.id + "/take").then(function () { show("mine"); }, fail);
      } } }));
    }
    return node;
  }
  function render(doc) {
    board.textContent = "";
    var total = 0;
    doc.columns.forEach(function (col) {
      var stage = col.stage, cards = col.cards;
      total += cards.length;
      board.appendChild(el("div", { "class": "variant", "data-b24app": "column", "data-stage": stage },
        el("h3", { text: (S.stages[stage] || stage) + " · " + cards.length }), cards.map(card)));
    });
    B24.say(statusEl, total ? "" : S.empty, "muted");
    document.body.setAttribute("data-b24app-loaded", doc.scope + ":" + total);
    B24.fit();
  }
  function show(which) {
    scope = which;
    Array.prototype.forEach.call(scopes.children, function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-scope") === scope ? "true" : "false");
    });
    document.body.removeAttribute("data-b24app-loaded");
    api("GET", "/api/calc/board?scope=" + scope).then(render, fail);
  }
  ["mine", "group", "unassigned"].concat(cfg.can.all ? ["all"] : []).forEach(function (k) {
    scopes.appendChild(el("button", { type: "button", "data-scope": k, "data-b24app": "scope-" + k, text: S[k],
                                      on: { click: function () { show(k); } } }));
  });
  B24.builder.onChange = function () { show(scope); };     // a calculation done leaves the board
  show(scope);
  document.body.setAttribute("data-b24app-ready", "1");
})();
