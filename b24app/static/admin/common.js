/* The main page's shared helpers: config, JSON calls with the page session, DOM built with textContent
   only (portal data never becomes markup), and the 400/403 answers shown in words. */
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('b24app-config').textContent);
  var S = CFG.s;

  function api(method, path, body) {
    var opts = {method: method, headers: {'X-B24App-Session': CFG.session}};
    if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return {status: r.status, ok: r.ok, body: j}; });
    });
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') n.textContent = v;
      else if (k === 'value') n.value = v;
      else if (k === 'checked') n.checked = !!v;
      else if (k === 'on') Object.keys(v).forEach(function (e) { n.addEventListener(e, v[e]); });
      else n.setAttribute(k, v === true ? '' : v);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return n;
  }

  function field(label, input) { return el('label', {'class': 'field'}, [el('span', {text: label}), input]); }

  /* One status line per form: "Saved." / the endpoint's own error_description for a 400. */
  function say(node, kind, text, items) {
    node.className = 'msg ' + kind;
    node.textContent = text;
    if (items && items.length) {
      var ul = el('ul');
      items.forEach(function (t) { ul.appendChild(el('li', {text: t})); });
      node.appendChild(ul);
    }
    fit();
  }

  function failure(res) {
    if (res.status === 403) return S['not_allowed'] + (res.body.error_description ? ' (' + res.body.error_description + ')' : '');
    return S['error'] + ' ' + res.status + ': ' + (res.body.error_description || res.body.error || '');
  }

  /* A moment (unix seconds) in the page's language: ru "2 дек. 2026, 11:25", en "Dec 2, 2026, 11:25 AM".
     Intl's Russian "г." after the year is dropped: the short form fits a table cell. */
  function when(seconds) {
    if (seconds === null || seconds === undefined || seconds === '') return '';
    var d = new Date(Number(seconds) * 1000);
    if (isNaN(d.getTime())) return '';
    var ru = CFG.lang === 'ru';
    var f = new Intl.DateTimeFormat(ru ? 'ru-RU' : 'en-US', {day: 'numeric', month: 'short', year: 'numeric',
                                                             hour: ru ? '2-digit' : 'numeric', minute: '2-digit'});
    return f.formatToParts(d).map(function (p) {
      return p.type === 'literal' && ru ? p.value.replace(/\s*г\.\s*,/, ',').replace(/\s*г\.\s*$/, '') : p.value;
    }).join('');
  }

  function fit() { if (window.BX24 && BX24.fitWindow) { try { BX24.fitWindow(); } catch (e) { /* outside a frame */ } } }

  window.B24Admin = {cfg: CFG, s: S, api: api, el: el, field: field, say: say, failure: failure, fit: fit,
                    when: when};
})();
