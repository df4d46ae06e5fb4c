/* The Bitrix24 frame: one BX24.init per page (started here, as soon as BX24.js is loaded), ready(cb) for
   what must wait for it (installFinish), fit() = BX24.fitWindow when there is a frame to fit, and
   fit.watch(node) re-fits (debounced) while the page grows with what its fetches render.
   Outside Bitrix24 (the phone page, a test opening the page directly) everything here is a no-op. */
(function () {
  'use strict';
  var B24 = window.B24;
  var has = !!(window.BX24 && window.BX24.init);
  var waiting = [], started = false, isReady = false;

  function fit() {
    if (window.BX24 && window.BX24.fitWindow) { try { window.BX24.fitWindow(); } catch (e) { /* not framed */ } }
  }

  function ready(cb) {
    if (!has) return false;
    if (isReady) cb(); else waiting.push(cb);
    return true;
  }

  function watch(node) {
    if (!has || !window.MutationObserver) return;
    var timer = null;
    new MutationObserver(function () { clearTimeout(timer); timer = setTimeout(fit, 100); })
      .observe(node || document.body, {childList: true, subtree: true});
  }

  if (has && !started) {
    started = true;
    try {
      window.BX24.init(function () {
        isReady = true;
        fit();
        var w = waiting; waiting = [];
        w.forEach(function (cb) { cb(); });
      });
    } catch (e) { has = false; /* BX24.js outside a portal frame */ }
  }

  fit.ready = ready;
  fit.watch = watch;
  fit.framed = function () { return has; };
  B24.fit = fit;
})();
