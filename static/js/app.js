// Dialoog's small browser behaviours. Loaded with defer after htmx, never
// inline (CSP script-src 'self'). Every page also works without this file.
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  // Forms carry the token as a hidden field; requests without a form (hx-get
  // on a button, hx-delete, ...) need the header. The body's hx-headers
  // attribute sets it too; this covers elements that override hx-headers.
  document.addEventListener('htmx:configRequest', function (event) {
    var token = csrfToken();
    if (token && !event.detail.headers['X-Csrf-Token']) {
      event.detail.headers['X-Csrf-Token'] = token;
    }
  });

  // After a step replaces the main content, screen-reader and keyboard users
  // would otherwise stay on a button that no longer exists. Move focus to the
  // first field with an error, else to the new step's heading.
  document.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail.target;
    if (!target || target.id !== 'main') {
      return;
    }
    var el = target.querySelector('[aria-invalid="true"]') || target.querySelector('h1');
    if (!el) {
      return;
    }
    if (el.tagName === 'H1' && !el.hasAttribute('tabindex')) {
      el.setAttribute('tabindex', '-1');
    }
    el.focus();
  });

  // A failed request (network down, server gone) would otherwise look like a
  // button that does nothing; fall back to a normal form post, which shows the
  // browser's own error page. form.submit() fires no submit event, so htmx
  // does not intercept it again.
  document.addEventListener('htmx:sendError', function (event) {
    var elt = event.detail.elt;
    if (elt && elt.tagName === 'FORM') {
      elt.submit();
    }
  });
})();
