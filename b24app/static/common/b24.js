/* The page kit's namespace and the page's data. A page's data arrives only as JSON in
   <script type="application/json" id="b24app-config"> (never executed, so the CSP needs no inline
   script); a page without one (an error page) gets {}. Loaded first: el, i18n, api, say, fit add to B24. */
(function () {
  'use strict';
  var node = document.getElementById('b24app-config');
  var cfg = {};
  if (node) { try { cfg = JSON.parse(node.textContent) || {}; } catch (e) { cfg = {}; } }
  window.B24 = {cfg: cfg, s: cfg.s || {}};
})();
