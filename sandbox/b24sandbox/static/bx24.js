/* BX24.js emulation served by the sandbox portal at /api/v1/ (reference §3.3).
   The app frame talks to the portal page (its parent) by postMessage: the parent hands over the frame
   data (AUTH_ID, DOMAIN, PLACEMENT...), performs installFinish/openPath/resize, and REST calls go
   straight to the portal's /rest/ with the frame's AUTH_ID (the endpoint sends CORS headers). */
(function () {
  if (window.BX24 && window.BX24.__sandbox) return;
  var script = document.currentScript;
  var PORTAL = script ? new URL(script.src, location.href).origin : location.origin;
  var SID = new URLSearchParams(location.search).get('APP_SID') || '';
  var data = null, waiting = [], callbacks = {}, seq = 0;

  function send(cmd, params, cb) {
    var id = ++seq;
    if (cb) callbacks[id] = cb;
    window.parent.postMessage({bx24: true, cmd: cmd, params: params || {}, id: id, sid: SID}, PORTAL);
  }
  window.addEventListener('message', function (e) {
    if (e.origin !== PORTAL || !e.data || !e.data.bx24) return;
    var m = e.data;
    if (m.cmd === 'init') {
      data = m.result;
      var w = waiting; waiting = [];
      w.forEach(function (f) { try { f(); } catch (err) { console.error(err); } });
    }
    if (m.id && callbacks[m.id]) { var cb = callbacks[m.id]; delete callbacks[m.id]; cb(m.result); }
  });

  function buildQuery(obj, prefix) {
    var parts = [];
    Object.keys(obj || {}).forEach(function (k) {
      var v = obj[k], key = prefix ? prefix + '[' + k + ']' : k;
      if (v === null || v === undefined) v = '';
      if (typeof v === 'object') parts.push(buildQuery(v, key));
      else parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(v === true ? 'Y' : v === false ? 'N' : v));
    });
    return parts.filter(Boolean).join('&');
  }

  function AjaxResult(answer, status, method, params) {
    this.answer = answer; this.status = status; this.query = {method: method, data: params};
  }
  AjaxResult.prototype.data = function () { return this.answer.result; };
  AjaxResult.prototype.error = function () {
    if (!this.answer.error) return false;
    var a = this.answer;
    return {status: this.status, ex: {error: a.error, error_description: a.error_description},
            getError: function () { return a; }, getStatus: function () { return this.status; },
            toString: function () { return a.error + (a.error_description ? ': ' + a.error_description : ''); }};
  };
  AjaxResult.prototype.more = function () { return typeof this.answer.next !== 'undefined'; };
  AjaxResult.prototype.total = function () { return this.answer.total || 0; };
  AjaxResult.prototype.time = function () { return this.answer.time; };
  AjaxResult.prototype.next = function (cb) {
    if (!this.more()) return false;
    var p = Object.assign({}, this.query.data, {start: this.answer.next});
    BX24.callMethod(this.query.method, p, cb);
    return true;
  };

  function rest(method, params, retried) {
    var body = Object.assign({}, params || {}, {auth: data && data.AUTH_ID});
    return fetch(PORTAL + '/rest/' + method + '.json', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (j.error === 'expired_token' && !retried) {
          return new Promise(function (ok) { BX24.refreshAuth(function () { ok(rest(method, params, true)); }); });
        }
        return new AjaxResult(j, r.status, method, params);
      });
    });
  }

  var BX24 = {
    __sandbox: true,
    init: function (cb) { if (data) cb(); else waiting.push(cb); },
    ready: function (cb) { BX24.init(cb); },
    isReady: function () { return !!data; },
    installFinish: function () { send('installFinish'); },
    getAuth: function () {
      if (!data) return false;
      return {access_token: data.AUTH_ID, refresh_token: data.REFRESH_ID, expires_in: data.AUTH_EXPIRES,
              domain: data.DOMAIN, member_id: data.member_id};
    },
    refreshAuth: function (cb) {
      send('refreshAuth', {}, function (res) {
        data.AUTH_ID = res.AUTH_ID; data.REFRESH_ID = res.REFRESH_ID; data.AUTH_EXPIRES = res.AUTH_EXPIRES;
        if (cb) cb(BX24.getAuth());
      });
    },
    callMethod: function (method, params, cb) {
      var p = rest(method, params);
      if (cb) p.then(cb);
      return p;
    },
    callBatch: function (calls, cb, halt) {
      var isArray = Array.isArray(calls), cmd = isArray ? [] : {}, names = [];
      Object.keys(calls).forEach(function (k) {
        var c = calls[k], m = Array.isArray(c) ? c[0] : c.method, p = Array.isArray(c) ? c[1] : c.params;
        var q = buildQuery(p || {});
        if (isArray) cmd.push(m + (q ? '?' + q : '')); else cmd[k] = m + (q ? '?' + q : '');
        names.push([k, m, p]);
      });
      return rest('batch', {cmd: cmd, halt: halt ? 1 : 0}).then(function (res) {
        var r = res.answer.result || {}, out = isArray ? [] : {};
        names.forEach(function (n) {
          var k = n[0], err = (r.result_error || {})[k];
          var ans = err ? err : {result: (r.result || {})[k], next: (r.result_next || {})[k],
                                 total: (r.result_total || {})[k], time: (r.result_time || {})[k]};
          if (ans.next === undefined) delete ans.next;
          out[k] = new AjaxResult(ans, err ? 400 : 200, n[1], n[2]);
        });
        if (cb) cb(out);
        return out;
      });
    },
    callBind: function (event, handler, authType, cb) {
      return BX24.callMethod('event.bind', {event: event, handler: handler, auth_type: authType || 0}, cb);
    },
    callUnbind: function (event, handler, authType, cb) {
      return BX24.callMethod('event.unbind', {event: event, handler: handler, auth_type: authType || 0}, cb);
    },
    placement: {
      info: function () {
        var opts = {};
        try { opts = data && data.PLACEMENT_OPTIONS ? JSON.parse(data.PLACEMENT_OPTIONS) : {}; } catch (e) {}
        return {placement: data ? data.PLACEMENT : 'DEFAULT', options: opts};
      },
      call: function (cmd, params, cb) { send('placementCall', {cmd: cmd, params: params}, cb); },
      bindEvent: function () {},
      getInterface: function (cb) {     // CALL_CARD's interface (docs placement_call_card); other placements: none
        var card = data && data.PLACEMENT === 'CALL_CARD';
        if (cb) cb(card ? {command: ['getStatus', 'disableAutoClose', 'enableAutoClose'],
                           event: ['CallCard::EntityChanged', 'CallCard::BeforeClose', 'CallCard::CallStateChanged']}
                        : {command: [], event: []});
      }
    },
    openPath: function (path, cb) { send('openPath', {path: path}, cb); },
    openApplication: function (params, cb) { send('openApplication', {params: params || {}}, cb); },
    closeApplication: function (cb) { send('closeApplication', {}, cb); },
    reloadWindow: function () { send('reloadWindow'); },
    fitWindow: function (cb) {
      var h = Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
      send('resizeWindow', {width: '100%', height: h}, cb);
    },
    resizeWindow: function (w, h, cb) { send('resizeWindow', {width: w, height: h}, cb); },
    getScrollSize: function () {
      return {scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight};
    },
    setTitle: function (title, cb) { send('setTitle', {title: title}, cb); },
    getLang: function () { return data ? data.LANG : 'ru'; },
    getDomain: function () { return data ? data.DOMAIN : ''; },
    isAdmin: function () { return !!(data && data.IS_ADMIN); },
    appOption: {get: function (n) { return data && data.APP_OPTIONS ? data.APP_OPTIONS[n] : undefined; },
                set: function (n, v, cb) { if (cb) cb(); }},
    userOption: {get: function () { return undefined; }, set: function (n, v, cb) { if (cb) cb(); }}
  };
  window.BX24 = BX24;
  if (window.parent !== window) send('init');
})();
