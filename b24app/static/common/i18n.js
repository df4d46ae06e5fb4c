/* Strings and formats in the page's language. The strings come from the page config (cfg.s, ru/en chosen
   by the server from the portal's LANG); dates and numbers go through Intl in that language. */
(function () {
  'use strict';
  var B24 = window.B24;
  var lang = B24.cfg.lang || document.documentElement.lang || 'ru';
  var LOCALES = {ru: 'ru-RU', en: 'en-US'};

  /* t('key', {n: 3}) → the string with {n} filled; an unknown key is shown as itself */
  function t(key, vars) {
    var text = B24.s[key] === undefined ? key : String(B24.s[key]);
    Object.keys(vars || {}).forEach(function (k) { text = text.split('{' + k + '}').join(String(vars[k])); });
    return text;
  }

  /* locale(): 'ru-RU' | 'en-US'; a page that wants another English (day-first en-GB) says so */
  function locale(en) { return lang === 'en' ? (en || LOCALES.en) : (LOCALES[lang] || LOCALES.ru); }

  function number(v, opts) {
    if (v === null || v === undefined) return '—';
    return typeof v === 'number' ? new Intl.NumberFormat(locale(), opts).format(v) : String(v);
  }

  /* date(value, Intl options, en locale): a Date, ISO text or ms; unreadable text is shown as it came */
  function date(v, opts, en) {
    if (v === null || v === undefined || v === '') return '—';
    var d = v instanceof Date ? v : new Date(v);
    return isNaN(d.getTime()) ? String(v) : new Intl.DateTimeFormat(locale(en), opts).format(d);
  }

  /* A moment (unix seconds) for a table cell: ru "2 дек. 2026, 11:25", en "Dec 2, 2026, 11:25 AM".
     Intl's Russian "г." after the year is dropped: the short form fits a table cell. */
  function when(seconds) {
    if (seconds === null || seconds === undefined || seconds === '') return '';
    var d = new Date(Number(seconds) * 1000);
    if (isNaN(d.getTime())) return '';
    var ru = lang === 'ru';
    var f = new Intl.DateTimeFormat(locale(), {day: 'numeric', month: 'short', year: 'numeric',
                                              hour: ru ? '2-digit' : 'numeric', minute: '2-digit'});
    return f.formatToParts(d).map(function (p) {
      return p.type === 'literal' && ru ? p.value.replace(/\s*г\.\s*,/, ',').replace(/\s*г\.\s*$/, '') : p.value;
    }).join('');
  }

  B24.lang = lang;
  B24.t = t;
  B24.i18n = {t: t, locale: locale, number: number, date: date, when: when};
})();
