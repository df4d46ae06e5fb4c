/* el(tag, attrs, ...children): the one DOM builder. Text goes in as text nodes / textContent only — portal
   data never becomes markup (no innerHTML anywhere). attrs: text, on {event: fn}, value / checked (the
   properties), anything else an attribute (true → present, null / undefined / false → left out).
   Children: strings, numbers, nodes, or arrays of them (nested); null / undefined / false are skipped. */
(function () {
  'use strict';
  function add(parent, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(parent, x); }); return; }
    parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function el(tag, attrs) {
    var n = document.createElement(tag), a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') n.textContent = String(v);
      else if (k === 'on') Object.keys(v).forEach(function (ev) { n.addEventListener(ev, v[ev]); });
      else if (k === 'value') n.value = v;
      else if (k === 'checked') n.checked = !!v;
      else n.setAttribute(k, v === true ? '' : v);
    });
    for (var i = 2; i < arguments.length; i++) add(n, arguments[i]);
    return n;
  }
  window.B24.el = el;
})();
