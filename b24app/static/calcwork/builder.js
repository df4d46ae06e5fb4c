/* The variant builder (the engineer's "calculation by variants"): the portal's catalog by direction
   (catalog sections, each with its default coefficient), lines with group, quantity and coefficient,
   fixed-price lines; every change asks the server for the variant as it would be stored
   (POST /api/calc/<id>/variants/preview) and shows ITS prices, totals and margin — money is computed
   once, in Decimal, on the server. Save adds/replaces a variant; "Calculation done" finishes.
   B24.builder.open(calcId) is called by the engineers' list. Text only through textContent (B24.el). */
(function () {
  "use strict";
  var cfg = B24.cfg, S = cfg.s, el = B24.el, api = B24.api;
  var box = document.getElementById("builder");
  var st = null;          // {calc, catalog, direction, editing (variant id | null), name, lines, preview, seq}
  var timer = null;

  function fail(e) { B24.say(document.getElementById("builder-status"), S.error + ": " + e.message, "error"); }
  function coefOf(sectionId) {
    var d = st.catalog.directions.filter(function (x) { return x.id === sectionId; })[0];
    return d ? d.coefficient : "1";
  }

  function payload() {
    return {name: st.name || S.variant_default, lines: st.lines.map(function (x) {
      var out = {quantity: x.quantity, group: x.group};
      if (x.product_id) out.product_id = x.product_id;
      if (x.fixed) { out.fixed = true; out.name = x.name; out.price = x.price; out.cost = x.cost; }
      else out.coefficient = x.coefficient;
      return out;
    })};
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }
  function preview() {
    var seq = ++st.seq;
    if (!st.lines.length) { st.preview = null; paint(); mark(seq); return; }
    api("POST", "/api/calc/" + st.calc.id + "/variants/preview", payload()).then(function (r) {
      if (seq !== st.seq) return;          // a later edit is on its way
      st.preview = r.variant; paint(); B24.say(document.getElementById("builder-status"), ""); mark(seq);
    }, function (e) {
      if (seq !== st.seq) return;
      st.preview = null; paint(); fail(e); mark(seq);
    });
  }
  function mark(seq) { box.setAttribute("data-b24app-preview", String(seq)); }

  function addProduct(p) {
    st.lines.push({product_id: p.id, name: p.name, section_id: p.section_id, group: "", quantity: "1",
                   coefficient: coefOf(p.section_id), fixed: false});
    st.preview = null; render(); schedule();
  }
  function addFixed() {
    st.lines.push({name: "", group: "", quantity: "1", fixed: true, price: "", cost: ""});
    st.preview = null; render(); schedule();
  }

  function input(x, key, attrs) {
    return el("input", Object.assign({value: x[key] == null ? "" : x[key], "data-field": key, on: {input: function (ev) {
      x[key] = ev.target.value; schedule();
    }}}, attrs || {}));
  }

  function catalogBox() {
    var sel = el("select", {"data-b24app": "direction", on: {change: function (ev) {
      st.direction = Number(ev.target.value) || null; render();
    }}}, el("option", {value: "", text: S.all_directions}), st.catalog.directions.map(function (d) {
      return el("option", {value: String(d.id), selected: st.direction === d.id,
                           text: d.name + " · " + S.coef + " " + d.coefficient});
    }));
    var items = st.catalog.products.filter(function (p) { return !st.direction || p.section_id === st.direction; });
    return el("div", {"class": "variant", "data-b24app": "catalog"},
      el("h3", {text: S.catalog}), sel,
      el("ul", {"class": "products"}, items.map(function (p) {
        return el("li", {"data-b24app": "product", "data-id": String(p.id)},
          el("span", {text: p.name + " — " + p.price}), " ",
          el("button", {type: "button", "data-b24app": "add-product", text: "+", title: S.add,
                        on: {click: function () { addProduct(p); }}}));
      })),
      el("button", {type: "button", "data-b24app": "add-fixed", text: S.add_fixed, on: {click: addFixed}}));
  }

  /* The server's figures into the editor that is on the page (inputs stay as they are: no lost focus). */
  function paint() {
    var pv = st.preview, byN = {};
    (pv ? pv.lines : []).forEach(function (l) { byN[l.n] = l; });
    Array.prototype.forEach.call(box.querySelectorAll("[data-b24app=edit-line]"), function (tr) {
      var got = byN[Number(tr.getAttribute("data-n"))];
      var price = tr.querySelector("[data-b24app=line-price]"), amount = tr.querySelector("[data-b24app=line-amount]");
      if (price) price.textContent = got ? got.price : "…";
      if (amount) amount.textContent = got ? got.amount : "…";
    });
    var out = box.querySelector("[data-b24app=preview]");
    if (!out) return;
    out.textContent = "";
    if (!pv) return;
    out.appendChild(el("p", {"class": "total", "data-b24app": "preview-total", text: S.total + ": " + pv.total}));
    out.appendChild(el("p", {"class": "muted", "data-b24app": "preview-margin",
                             text: S.cost + ": " + pv.cost + " · " + S.margin + ": " + pv.margin + " (" +
                                   pv.margin_pct + " %)"}));
    out.appendChild(el("p", {"class": "muted", "data-b24app": "preview-groups", text: Object.keys(pv.groups).map(
      function (g) { return (g || S.no_group) + ": " + pv.groups[g]; }).join(" · ")}));
    B24.fit();
  }

  function linesBox() {
    var head = el("tr", null, [S.name, S.line_group, S.qty, S.coef, S.price, S.amount, ""].map(function (h, i) {
      return el("th", {"class": i >= 2 && i <= 5 ? "num" : "", text: h});
    }));
    var rows = st.lines.map(function (x, i) {
      return el("tr", {"data-b24app": "edit-line", "data-n": String(i + 1)},
        el("td", null, x.fixed ? input(x, "name", {placeholder: S.name, size: "18"}) : x.name),
        el("td", null, input(x, "group", {size: "8"})),
        el("td", {"class": "num"}, input(x, "quantity", {size: "4", inputmode: "decimal"})),
        el("td", {"class": "num"}, x.fixed ? el("span", {"class": "muted", text: S.fixed})
                                           : input(x, "coefficient", {size: "4", inputmode: "decimal"})),
        el("td", {"class": "num"}, x.fixed ? [input(x, "price", {size: "7", inputmode: "decimal", placeholder: S.price}),
                                              input(x, "cost", {size: "7", inputmode: "decimal", placeholder: S.cost})]
                                           : el("span", {"data-b24app": "line-price", text: "…"})),
        el("td", {"class": "num", "data-b24app": "line-amount", text: "…"}),
        el("td", null, el("button", {type: "button", "data-b24app": "remove-line", text: "×", title: S.remove,
                                     on: {click: function () {
                                       st.lines.splice(i, 1); st.preview = null; render(); schedule(); }}})));
    });
    var totals = el("div", {"data-b24app": "preview"});
    return el("div", {"class": "variant", "data-b24app": "editor"},
      el("input", {"data-b24app": "variant-name", value: st.name, placeholder: S.variant_default,
                   on: {input: function (ev) { st.name = ev.target.value; }}}),
      el("table", null, el("thead", null, head), el("tbody", null, rows)), totals,
      el("button", {type: "button", "data-b24app": "save-variant", text: st.editing ? S.save : S.save_new,
                    disabled: !st.lines.length, on: {click: save}}),
      st.editing ? el("button", {type: "button", "data-b24app": "new-variant", text: S.new_variant,
                                  on: {click: function () { reset(); render(); }}}) : null);
  }

  function savedBox() {
    var vs = st.calc.variants;
    return el("div", {"class": "variants", "data-b24app": "saved"}, vs.map(function (v) {
      return el("div", {"class": "variant" + (st.editing === v.id ? " chosen" : ""), "data-b24app": "saved-variant",
                        "data-id": v.id},
        el("strong", {text: v.name}),
        el("p", {"class": "total", text: S.total + ": " + v.total}),
        el("p", {"class": "muted", text: S.margin + ": " + v.margin + " (" + v.margin_pct + " %)"}),
        editable() ? el("button", {type: "button", "data-b24app": "edit-variant", text: S.edit, on: {click: function () {
          edit(v); }}}) : null);
    }));
  }

  function render() {
    box.textContent = "";
    var c = st.calc;
    box.appendChild(el("h2", {"data-b24app": "builder-title", text: S.builder + " · #" + c.id + " · " +
                                                                   (S.stages[c.stage] || c.stage)}));
    box.appendChild(el("p", {id: "builder-status", "class": "muted", "data-b24app": "builder-status"}));
    box.appendChild(savedBox());
    if (editable()) box.appendChild(el("div", {"class": "variants builder"}, catalogBox(), linesBox()));
    paint();
    if (c.stage === "in_work") {
      box.appendChild(el("button", {type: "button", "data-b24app": "calc-done", text: S.calc_done,
                                    disabled: !c.variants.length, on: {click: function () {
        api("POST", "/api/calc/" + c.id + "/done").then(function (r) {
          st.calc = r; render(); box.setAttribute("data-b24app-stage", r.stage);
          if (typeof B24.builder.onChange === "function") B24.builder.onChange();
        }, fail);
      }}}));
    }
    B24.fit();
  }

  function editable() { return st.calc.stage === "in_work" || st.calc.stage === "info_requested"; }

  function reset() { st.editing = null; st.name = ""; st.lines = []; st.preview = null; }

  function edit(v) {
    st.editing = v.id; st.name = v.name;
    st.lines = v.lines.map(function (l) {
      return l.product_id ? {product_id: l.product_id, name: l.name, section_id: l.section_id, group: l.group,
                             quantity: l.quantity, coefficient: l.coefficient, fixed: false}
                          : {name: l.name, group: l.group, quantity: l.quantity, fixed: true, price: l.price,
                             cost: l.cost};
    });
    render(); schedule();
  }

  function save() {
    var path = "/api/calc/" + st.calc.id + "/variants" + (st.editing ? "/" + encodeURIComponent(st.editing) : "");
    api(st.editing ? "PUT" : "POST", path, payload()).then(function (r) {
      st.calc = r; reset(); render();
      box.setAttribute("data-b24app-saved", String(r.variants.length));
    }, fail);
  }

  function open(calcId) {
    box.hidden = false;
    box.removeAttribute("data-b24app-open");
    Promise.all([api("GET", "/api/calc/" + calcId), api("GET", "/api/calc/catalog")]).then(function (r) {
      st = {calc: r[0], catalog: r[1], direction: null, editing: null, name: "", lines: [], preview: null,
            seq: st ? st.seq : 0};
      render();
      box.setAttribute("data-b24app-open", String(calcId));
      box.scrollIntoView();
    }, function (e) { B24.say(document.getElementById("status"), S.error + ": " + e.message, "error"); });
  }
  B24.builder = {open: open};
})();
