/* api(method, path, body) → Promise of the JSON answer: the one way a page calls its server. The page
   session rides in the X-B24App-Session header (never in a URL); a body goes as JSON. A refusal rejects
   with an Error whose message is the server's error_description (else its error code, else "HTTP <n>"),
   with .status and .body (the parsed answer, {} when it was not JSON) for pages that word 403s apart.
   api.raw(...) is the same call answering the checked Response (a CSV to save as a file).
   api.onRefusal = fn(error): a page that shows every refusal the same way (visits: a toast) says so once. */
(function () {
  'use strict';
  var B24 = window.B24;

  function raw(method, path, body) {
    var opts = {method: method || 'GET', headers: {'X-B24App-Session': B24.cfg.session || ''}};
    if (body !== undefined && body !== null) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      if (r.ok) return r;
      return r.json().catch(function () { return {}; }).then(function (j) {
        var e = new Error((j && (j.error_description || j.error)) || ('HTTP ' + r.status));
        e.status = r.status; e.body = j || {};
        if (typeof api.onRefusal === 'function') api.onRefusal(e);
        throw e;
      });
    });
  }

  function api(method, path, body) {
    return raw(method, path, body).then(function (r) {
      return r.status === 204 ? {} : r.json().catch(function () { return {}; });
    });
  }
  api.raw = raw;
  B24.api = api;
})();
