/* What the page tells the person: say(node, text, cls, items) writes a status line (cls replaces the
   node's class when given; items → a list under it), toast(text) a short note at the bottom that hides
   itself. Text only (textContent). */
(function () {
  'use strict';
  var B24 = window.B24;

  function say(node, text, cls, items) {
    if (!node) return;
    if (cls !== undefined && cls !== null) node.className = cls;
    node.textContent = text === null || text === undefined ? '' : String(text);
    if (items && items.length) {
      node.appendChild(B24.el('ul', null, items.map(function (t) { return B24.el('li', {text: t}); })));
    }
    if (B24.fit) B24.fit();
  }

  function toast(text) {
    var t = document.getElementById('toast');
    if (!t) {
      t = B24.el('div', {id: 'toast', 'class': 'b24-toast', role: 'status', hidden: true});
      document.body.appendChild(t);
    }
    t.textContent = String(text);
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  B24.say = say;
  B24.toast = toast;
})();
