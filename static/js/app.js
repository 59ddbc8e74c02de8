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

  // Progressive enhancements of server-rendered controls. Each starts hidden
  // or inert in the HTML and only works once set up here, for the first page
  // and for every partial htmx swaps in.
  function enhance(root) {
    each(root, '[data-disclosure]', setUpDisclosure);
    each(root, '[data-password-toggle]', setUpPasswordToggle);
    each(root, '[data-countdown]', setUpCountdown);
    each(root, '[data-copy]', setUpCopy);
  }

  function each(root, selector, fn) {
    var nodes = root.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) {
      if (!nodes[i].hasAttribute('data-enhanced')) {
        nodes[i].setAttribute('data-enhanced', '');
        fn(nodes[i]);
      }
    }
  }

  // The question-mark button: without script the panel is simply shown.
  function setUpDisclosure(button) {
    var panel = document.getElementById(button.getAttribute('aria-controls'));
    if (!panel) {
      return;
    }
    panel.hidden = button.getAttribute('aria-expanded') !== 'true';
    button.hidden = false;
    button.addEventListener('click', function () {
      var open = button.getAttribute('aria-expanded') !== 'true';
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      panel.hidden = !open;
    });
  }

  // Show or hide the typed password(s); pasting is never blocked.
  function setUpPasswordToggle(button) {
    var ids = button.getAttribute('data-password-toggle').split(' ');
    button.hidden = false;
    button.addEventListener('click', function () {
      var show = button.getAttribute('aria-pressed') !== 'true';
      ids.forEach(function (id) {
        var input = document.getElementById(id);
        if (input) {
          input.type = show ? 'text' : 'password';
        }
      });
      button.setAttribute('aria-pressed', show ? 'true' : 'false');
      button.textContent = button.getAttribute(show ? 'data-label-hide' : 'data-label-show');
    });
  }

  // "Geen SMS ontvangen (nog 42 seconden)": count down and enable the
  // button when the server will accept a resend.
  function setUpCountdown(span) {
    var left = parseInt(span.getAttribute('data-countdown'), 10);
    var button = span.closest('button');
    var timer = setInterval(function () {
      if (!span.isConnected) {
        clearInterval(timer);
        return;
      }
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        span.remove();
        if (button) {
          button.disabled = false;
        }
        return;
      }
      span.textContent = left === 1 ?
        span.getAttribute('data-text-one') :
        span.getAttribute('data-text-many').replace('{n}', String(left));
    }, 1000);
  }

  // "Kopiëren" for the recovery codes.
  function setUpCopy(button) {
    if (!navigator.clipboard) {
      return;
    }
    var status = document.getElementById(button.getAttribute('data-copy-status'));
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () {
        if (status) {
          status.textContent = status.getAttribute('data-done');
        }
      });
    });
  }

  enhance(document);
  document.addEventListener('htmx:load', function (event) {
    enhance(event.detail.elt.parentNode || event.detail.elt);
  });
})();
