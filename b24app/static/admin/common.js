/* The main page's own bits on top of the page kit (static/common/): a labelled field, the admin's
   status line ("msg good|bad|wait") and a refusal in words — a 403 as "not allowed", anything else with
   its status and the endpoint's error_description. */
(function () {
  'use strict';
  var S = B24.s;

  function field(label, input) { return B24.el('label', {'class': 'field'}, B24.el('span', {text: label}), input); }

  function say(node, kind, text, items) { B24.say(node, text, 'msg ' + kind, items); }

  /* e: the Error B24.api rejects with (.status, .body) */
  function failure(e) {
    var body = e.body || {};
    if (e.status === 403) return S['not_allowed'] + (body.error_description ? ' (' + body.error_description + ')' : '');
    return S['error'] + ' ' + (e.status || '') + ': ' + (body.error_description || body.error || e.message || '');
  }

  window.B24Admin = {cfg: B24.cfg, s: S, api: B24.api, el: B24.el, field: field, say: say, failure: failure,
                     fit: B24.fit, when: B24.i18n.when};
})();
