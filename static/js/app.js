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

  // Headings and messages that a swap moves the focus to (or gives it back
  // to, in their replacement) are not focusable by nature: they take the
  // focus only with a tabindex, "-1", so that script can focus them while
  // the Tab key still passes them by. Elements focusable by nature
  // (NATIVE), and those with a tabindex of their own, are left as they are.
  var NATIVE = 'a[href], button, input, select, textarea, summary, iframe, audio[controls], video[controls]';
  function focusOn(el, options) {
    if (!el.matches(NATIVE) && !el.hasAttribute('tabindex')) {
      el.setAttribute('tabindex', '-1');
    }
    el.focus(options);
  }

  // After a step replaces the main content, screen-reader and keyboard users
  // would otherwise stay on a button that no longer exists. Move focus to the
  // first field with an error, else to the new step's heading.
  document.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail.target;
    if (!target || target.id !== 'main' || isResync(event)) {
      return;
    }
    var el = target.querySelector('[aria-invalid="true"]') || target.querySelector('h1');
    if (!el) {
      return;
    }
    focusOn(el);
  });

  // "Eerdere berichten tonen" is replaced by the messages it fetched, so the
  // focus would fall back to the page and a keyboard or screen-reader user
  // would start again at its top. It goes to the first message shown (past
  // the link to an even earlier page, when there is one).
  var earlierPlace = null;
  document.addEventListener('htmx:beforeSwap', function (event) {
    var target = event.detail.target;
    earlierPlace = null;
    if (target && target.classList && target.classList.contains('message--earlier') && target.parentNode) {
      earlierPlace = {list: target.parentNode, before: target.previousElementSibling};
    }
  });
  document.addEventListener('htmx:afterSettle', function () {
    var place = earlierPlace;
    earlierPlace = null;
    if (!place || !document.contains(place.list)) {
      return;
    }
    var el = place.before ? place.before.nextElementSibling : place.list.firstElementChild;
    while (el && el.classList.contains('message--earlier')) {
      el = el.nextElementSibling;
    }
    if (!el) {
      return;
    }
    focusOn(el);
  });

  // A re-fetch after a live reconnect leaves the focus where it is.
  function isResync(event) {
    var config = event.detail.requestConfig;
    return !!(config && config.headers && config.headers['X-Dialoog-Resync']);
  }

  // The footer's language switch comes back to the page it was rendered on;
  // htmx may since have shown another one in main and pushed its address.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form && form.classList && form.classList.contains('language-switch')) {
      var back = form.querySelector('input[name="terug"]');
      if (back) {
        back.value = location.pathname + location.search;
      }
    }
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

  // Menus (<details class="menu">) open and close without script; with it,
  // a click elsewhere or Escape closes an open one, as menus do.
  document.addEventListener('click', function (event) {
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') {
      return;
    }
    var menu = event.target.closest && event.target.closest('details.menu[open]');
    if (menu) {
      menu.open = false;
      menu.querySelector('summary').focus();
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
    each(root, '[data-count]', setUpCharCount);
    each(root, 'input[type="file"][data-upload]', setUpUpload);
    each(root, '[data-remove-chip]', setUpRemoveChip);
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

  // "12 van 20.000 tekens" under a message while typing. Counted in code
  // points, as the server counts; the line is also read out on request
  // (aria-describedby), not at every key.
  function setUpCharCount(textarea) {
    var out = document.getElementById(textarea.getAttribute('data-count'));
    if (!out) {
      return;
    }
    var template = out.getAttribute('data-template');
    var lang = document.documentElement.lang || 'nl';
    var update = function () {
      var n = Array.from(textarea.value).length;
      out.textContent = template.replace('{n}', n.toLocaleString(lang));
    };
    textarea.addEventListener('input', update);
    update();
  }

  // Attachments: every chosen file is uploaded at once, one request each,
  // with a progress bar; the server answers with the file's chip (a hidden
  // id for the form, name, size, remove button) or with the reason it was
  // refused. The file input is then emptied, so the files do not travel
  // with the form a second time. Sending waits until every upload is done.
  function setUpUpload(input) {
    var list = document.getElementById(input.getAttribute('data-upload-list'));
    var form = input.form;
    if (!list || !form || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    var url = input.getAttribute('data-upload');
    var maxSize = parseInt(input.getAttribute('data-max-size'), 10);
    input.addEventListener('change', function () {
      var old = list.querySelectorAll('.chip--error');
      for (var i = 0; i < old.length; i++) {
        old[i].remove();
      }
      var files = Array.prototype.slice.call(input.files || []);
      files.forEach(function (file) {
        upload(file);
      });
      input.value = '';
    });

    function upload(file) {
      var item = document.createElement('li');
      item.className = 'chip chip--pending';
      var name = document.createElement('span');
      name.className = 'chip__name';
      name.textContent = file.name;
      item.appendChild(name);
      list.appendChild(item);
      if (file.size > maxSize) {
        fail(item, input.getAttribute('data-text-too-big'));
        return;
      }
      var bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', input.getAttribute('data-text-uploading') + ' ' + file.name);
      item.appendChild(bar);
      pending(1);

      var data = new FormData();
      data.append('file', file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('X-Csrf-Token', csrfToken());
      xhr.upload.addEventListener('progress', function (event) {
        if (event.lengthComputable) {
          bar.value = Math.round(100 * event.loaded / event.total);
        }
      });
      xhr.addEventListener('load', function () {
        pending(-1);
        // Stored (200), refused (422) and no space left (507) come as a
        // chip with the reason; anything else is a failure to try again.
        var chip = (xhr.status === 200 || xhr.status === 422 || xhr.status === 507) ? parseChip(xhr.responseText) : null;
        if (!chip) {
          fail(item, input.getAttribute('data-text-failed'));
          return;
        }
        item.replaceWith(chip);
        enhance(list);
      });
      xhr.addEventListener('error', function () {
        pending(-1);
        fail(item, input.getAttribute('data-text-failed'));
      });
      xhr.send(data);
    }

    function fail(item, text) {
      var bar = item.querySelector('progress');
      if (bar) {
        bar.remove();
      }
      item.className = 'chip chip--error';
      item.setAttribute('role', 'alert');
      item.appendChild(document.createTextNode(': ' + text));
    }

    var busy = 0;
    function pending(delta) {
      busy += delta;
      var buttons = form.querySelectorAll('button[type="submit"]');
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = busy > 0;
      }
    }
  }

  // The server's chip is our own escaped markup; a <template> parses it
  // without running anything.
  function parseChip(html) {
    var template = document.createElement('template');
    template.innerHTML = html;
    var el = template.content.firstElementChild;
    return el && el.tagName === 'LI' ? el : null;
  }

  // "Verwijderen" on a chip takes the file off the message and deletes the
  // unsent upload on the server at once (what is left, say after a lost
  // connection, the server deletes after a day).
  function setUpRemoveChip(button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var chip = button.closest('.chip');
      var field = button.closest('.field');
      var input = field ? field.querySelector('input[type="file"]') : null;
      var discard = button.getAttribute('data-discard');
      if (discard) {
        var xhr = new XMLHttpRequest();
        xhr.open('POST', discard);
        xhr.setRequestHeader('X-Csrf-Token', csrfToken());
        xhr.send();
      }
      if (chip) {
        chip.remove();
      }
      if (input) {
        input.focus();
      }
    });
  }

  enhance(document);
  document.addEventListener('htmx:load', function (event) {
    enhance(event.detail.elt.parentNode || event.detail.elt);
  });

  // The session ends after 30 minutes without activity (the server's rule).
  // Before it does, the page warns in a dialog with "Ingelogd blijven"
  // (WCAG 2.2.1); once it has ended, the page goes to the login page, so
  // that no message stays on a screen nobody watches. The server says how
  // long the session has left (GET /sessie, which is no activity: asking
  // keeps nothing alive); the page's own count only decides when to ask, so
  // other tabs' activity counts too. window.dialoogIdle lets tests (and the
  // curious) see it and ask at once.
  var idle = (function () {
    var WARN_S = 180; // the warning's time before the end
    var MARGIN_S = 60; // the server moves its idle timer at most once a minute
    var timer = null;
    var ticker = null;
    var endAt = 0;
    // maxMode: the end that comes is the absolute one, which nothing
    // moves: the warning says so and offers "Oké" instead of staying;
    // dismissed: the person closed that warning, which stays closed.
    var maxMode = false;
    var dismissed = false;
    var state = window.dialoogIdle = {checks: 0, warned: 0, check: check};

    function seconds() {
      var account = document.getElementById('account');
      var n = account ? parseInt(account.getAttribute('data-session-idle'), 10) : 0;
      return n > 0 ? n : 0;
    }

    // The session's absolute end, which no activity moves: the header
    // says how far off it was when the server rendered it, and the page
    // notes when it first saw that header (not the clock of this computer,
    // which may be off).
    var endsSeen = null;
    var endsAt = 0;
    function absoluteEnd() {
      var account = document.getElementById('account');
      if (account && account !== endsSeen) {
        endsSeen = account;
        var n = parseInt(account.getAttribute('data-session-ends'), 10);
        endsAt = n >= 0 ? Date.now() + n * 1000 : 0;
      }
      return endsAt;
    }

    function dialog() {
      return document.getElementById('idle-warning');
    }

    // nearAbsolute reports whether the session's absolute end comes
    // within left seconds (and a few more): the end the server counts
    // down to is that one, not the idle end.
    function nearAbsolute(left) {
      var end = absoluteEnd();
      return !!end && (end - Date.now()) / 1000 <= left + 5;
    }

    // mode shows the warning's parts for the end that comes
    // (data-idle="idle" or "max").
    function mode(d, max) {
      maxMode = max;
      Array.prototype.forEach.call(d.querySelectorAll('[data-idle]'), function (el) {
        el.hidden = (el.getAttribute('data-idle') === 'max') !== max;
      });
    }

    function schedule(s) {
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(s, 1) * 1000);
    }

    function stop() {
      clearTimeout(timer);
      timer = null;
      hide();
    }

    // Activity the server saw (a request, an activity frame): the session
    // has its idle time again.
    function activity() {
      var n = seconds();
      if (!n) {
        stop();
        return;
      }
      if (!maxMode) {
        hide(); // a request moves the idle end, never the absolute one
      }
      var s = n - MARGIN_S - WARN_S;
      var end = absoluteEnd();
      if (end) {
        s = Math.min(s, (end - Date.now()) / 1000 - WARN_S);
      }
      schedule(s);
    }

    function check() {
      if (!seconds()) {
        stop();
        return;
      }
      state.checks += 1;
      fetch('/sessie', {credentials: 'same-origin', cache: 'no-store', headers: {'Accept': 'application/json'}})
        .then(function (res) {
          if (!res.ok) {
            throw new Error('session state: ' + res.status);
          }
          return res.json();
        })
        .then(function (s) {
          var left = s.remaining;
          if (left <= 0) {
            end(s.ended);
          } else if (left > WARN_S + 5) {
            hide();
            schedule(left - WARN_S);
          } else {
            warn(left);
            schedule(left);
          }
        })
        .catch(function () {
          schedule(30); // offline, or the server restarts: ask again soon
        });
    }

    function warn(left) {
      var d = dialog();
      if (!d) {
        return;
      }
      endAt = Date.now() + left * 1000;
      mode(d, nearAbsolute(left));
      tick();
      clearInterval(ticker);
      ticker = setInterval(tick, 1000);
      if (!d.open && !(maxMode && dismissed)) {
        state.warned += 1;
        d.showModal();
      }
    }

    function tick() {
      var d = dialog();
      var out = d && d.querySelector('[data-idle-countdown]');
      var s = Math.max(0, Math.ceil((endAt - Date.now()) / 1000));
      if (out) {
        out.textContent = Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
      }
    }

    function hide() {
      clearInterval(ticker);
      ticker = null;
      var d = dialog();
      if (d && d.open) {
        d.close();
      }
    }

    function stay() {
      fetch('/sessie/verlengen', {
        method: 'POST',
        credentials: 'same-origin',
        headers: {'Accept': 'application/json', 'X-Csrf-Token': csrfToken()}
      }).then(function (res) {
        if (res.status === 401) {
          check(); // over: the answer says why
          return null;
        }
        if (!res.ok) {
          throw new Error('extend session: ' + res.status);
        }
        return res.json().then(function (s) {
          if (s.remaining > WARN_S) {
            hide();
            schedule(s.remaining - MARGIN_S - WARN_S);
          } else {
            // The session's absolute end (12 hours) is near: no
            // extension goes past it, and the countdown goes on.
            warn(s.remaining);
            schedule(s.remaining);
          }
        });
      }).catch(function () {
        schedule(5);
      });
    }

    // A reply or new message the page holds unsent goes along: posted
    // with _bewaren=1 after the session ended, the server keeps it for the
    // person and offers it again after their next login in this browser
    // (messaging's kept texts). Attachments do not go; the form says so.
    var MESSAGE_FORM = /^\/berichten\/(nieuw|\d+)$/;
    function keepUnsent() {
      var forms = Array.prototype.filter.call(document.querySelectorAll('form[method="post"]'), function (form) {
        if (!MESSAGE_FORM.test(new URL(form.action, location.href).pathname)) {
          return false;
        }
        return Array.prototype.some.call(form.querySelectorAll('textarea[name="body"], input[name="subject"]'), function (el) {
          return el.value.trim() !== '';
        });
      });
      return Promise.all(forms.map(function (form) {
        var data = new FormData(form);
        data.delete('files');
        data.set('_bewaren', '1');
        return fetch(form.action, {method: 'POST', credentials: 'same-origin', body: data, headers: {'X-Csrf-Token': csrfToken()}})
          .then(function (res) {
            return res.ok;
          }, function () {
            return false;
          });
      })).then(function (kept) {
        return kept.some(Boolean);
      });
    }

    // end leaves the page of a session that is over for the login page,
    // which says why: ended elsewhere (a logout in another tab, "Afmelden"
    // on another device: nothing is kept, as the server keeps nothing for
    // such a session), or lapsed, idle or at the absolute end.
    function end(ended) {
      var max = maxMode || nearAbsolute(0);
      stop();
      if (ended) {
        // Unless the page is on its way already (the person's own logout
        // or stop, which ended the session and goes where it goes).
        if (Date.now() - leavingAt > LEAVING_MS) {
          location.replace('/inloggen?afgemeld=1');
        }
        return;
      }
      keepUnsent().then(function (kept) {
        location.replace(kept ? '/inloggen?bewaard=1' : max ? '/inloggen?verlopen=12' : '/inloggen?verlopen=1');
      });
    }

    // "Oké" (or Escape) on the warning of the absolute end: the person
    // saw it; the countdown goes on, and the end comes as announced.
    function dismiss() {
      dismissed = true;
      var d = dialog();
      if (d && d.open) {
        d.close();
      }
    }

    document.addEventListener('click', function (event) {
      if (event.target.closest && event.target.closest('[data-idle-stay]')) {
        stay();
      } else if (event.target.closest && event.target.closest('[data-idle-dismiss]')) {
        dismiss();
      }
    });
    // Escape closes a modal dialog: the person is there, so it counts as
    // "Ingelogd blijven", or before the absolute end as "Oké". (cancel
    // does not bubble: caught on the way down.)
    document.addEventListener('cancel', function (event) {
      if (event.target === dialog()) {
        event.preventDefault();
        if (maxMode) {
          dismiss();
        } else {
          stay();
        }
      }
    }, true);
    // Every answered request moved the server's idle timer; a swap may
    // also have signed the person in or out (the header's data-session-idle).
    document.addEventListener('htmx:afterRequest', function (event) {
      var xhr = event.detail.xhr;
      if (xhr && xhr.status > 0) {
        activity();
      }
    });
    document.addEventListener('htmx:afterSettle', function () {
      if (!seconds() || !timer) {
        activity();
      }
    });
    // Timers of a hidden tab slow down and those of a computer that slept
    // stood still: a tab shown again asks at once.
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible' && seconds()) {
        check();
      }
    });
    activity();
    // sessionClosed: the server closed the page's live connection for its
    // session (1008). If the session was ended elsewhere, the page leaves
    // (end); but the page's own request may be what ended it (a logout, a
    // stop with Dialoog), and its answer decides what comes next: then
    // the page looks once that request is done, and check finds no
    // session in the header after a logout's swap.
    var inFlight = 0;
    var recheck = false;
    var leavingAt = 0;
    var LEAVING_MS = 5000;
    function sessionClosed() {
      if (inFlight > 0) {
        recheck = true;
      } else {
        check();
      }
    }
    document.addEventListener('htmx:beforeRequest', function () {
      inFlight += 1;
    });
    document.addEventListener('htmx:afterRequest', function () {
      inFlight = Math.max(0, inFlight - 1);
      if (recheck && inFlight === 0) {
        recheck = false;
        setTimeout(check, 200); // after the answer's swap settled
      }
    });
    window.addEventListener('beforeunload', function () {
      leavingAt = Date.now();
    });

    return {activity: activity, sessionClosed: sessionClosed};
  })();

  if (window.htmx) {
    setUpLive();
  }

  function setUpLive() {
    // Live updates. The body of a signed-in page has ws-connect="/ws"
    // (htmx-ext-ws); the server pushes HTML fragments whose top-level elements
    // are out-of-band swaps (see components/live.templ). window.dialoogLive
    // tells tests (and the curious) how the connection is doing.
    var live = window.dialoogLive = {ready: 0, opened: 0, resyncs: 0};
    var typingTimers = {};
    var typingSeen = [];
    var resyncPending = false;
    var TYPING_SHOWN_MS = 4000;
    var TYPING_EVERY_MS = 2000;
    var socket = null;
    var socketOpen = false;
    var typedAt = {};
    var ACTIVE_EVERY_MS = 60000;
    var activeAt = 0;

    // The element an out-of-band swap targets, as htmx works it out.
    function oobTarget(el) {
      var value = el.getAttribute('hx-swap-oob') || 'true';
      var colon = value.indexOf(':');
      if (colon > 0) {
        return value.substring(colon + 1);
      }
      return el.id ? '#' + CSS.escape(el.id) : null;
    }

    function present(selector) {
      try {
        return !!(selector && document.querySelector(selector));
      } catch (e) {
        return false;
      }
    }

    // The "live" extension sees every pushed message before htmx-ext-ws swaps
    // it: it drops the swaps whose target is not on this page (htmx would log
    // an error for each), handles the signals that are no swaps, and fills in
    // the CSRF token of forms in pushed markup (the server does not know it).
    // Responses to requests (with an xhr) pass untouched.
    htmx.defineExtension('live', {
      transformResponse: function (text, xhr) {
        if (xhr) {
          return text;
        }
        var template = document.createElement('template');
        template.innerHTML = text;
        var children = Array.prototype.slice.call(template.content.children);
        children.forEach(function (el) {
          if (el.hasAttribute('data-live-ready')) {
            live.ready += 1;
            el.remove();
          } else if (el.hasAttribute('data-live-resync')) {
            resyncPending = true;
            el.remove();
          } else if (!present(oobTarget(el))) {
            el.remove();
          } else if (el.classList.contains('typing')) {
            typingSeen.push(el.id);
          }
        });
        var token = csrfToken();
        var fields = template.content.querySelectorAll('input[name="_csrf"]');
        for (var i = 0; i < fields.length; i++) {
          fields[i].setAttribute('value', token);
        }
        return template.innerHTML;
      }
    });

    // A push replaces elements by id (a message whose receipts changed or
    // that was edited, an inbox row, the participant list). When the
    // element that has the focus is one of them or inside one, the focus
    // would fall back to the page: a keyboard or screen reader user loses
    // their place at every push. It goes back to the same place in the new
    // markup: the nearest element with an id, itself or the focused
    // element's place among its controls and tab stops; a heading or
    // message that script gave the focus (focusOn) by its place among the
    // elements of its kind. Such a replacement comes without the tabindex
    // that script gave the old one (the server renders none, so that no
    // message is a tab stop), so focusOn gives it again.
    // A push may also remove that element with nothing in its place (a
    // message deleted for everyone). The focus then goes to its nearest
    // neighbour still there: the next element with an id in its list, else
    // the previous one, else the list itself (the nearest element with an
    // id around it); for a message, the live region says it was deleted.
    var TAB_STOPS = NATIVE + ', [tabindex]:not([tabindex="-1"])';
    var focusBefore = null;
    document.addEventListener('htmx:wsBeforeMessage', function () {
      focusBefore = null;
      var el = document.activeElement;
      var holder = el && el !== document.body && el.closest('[id]');
      if (!holder) {
        return;
      }
      var among = el.matches(TAB_STOPS) ? TAB_STOPS : el.tagName;
      var inside = Array.prototype.indexOf.call(holder.querySelectorAll(among), el);
      var around = holder.parentElement && holder.parentElement.closest('[id]');
      focusBefore = {el: el, id: holder.id, self: holder === el, among: among, index: inside,
        message: holder.classList.contains('message'),
        neighbours: [siblingID(holder, 'nextElementSibling'), siblingID(holder, 'previousElementSibling'),
          around ? around.id : null]};
    });

    // siblingID is the id of the nearest sibling with one, in direction.
    function siblingID(el, direction) {
      for (var sib = el[direction]; sib; sib = sib[direction]) {
        if (sib.id) {
          return sib.id;
        }
      }
      return null;
    }

    function restoreFocus() {
      var was = focusBefore;
      focusBefore = null;
      if (!was || document.contains(was.el)) {
        return;
      }
      var holder = document.getElementById(was.id);
      if (!holder) {
        focusNeighbour(was);
        return;
      }
      var target = was.self ? holder : holder.querySelectorAll(was.among)[was.index];
      if (target) {
        focusOn(target, {preventScroll: true});
      }
    }

    function focusNeighbour(was) {
      for (var i = 0; i < was.neighbours.length; i++) {
        var el = was.neighbours[i] && document.getElementById(was.neighbours[i]);
        if (el) {
          focusOn(el, {preventScroll: true});
          break;
        }
      }
      var status = document.getElementById('live-status');
      var text = status && status.getAttribute('data-text-message-deleted');
      if (was.message && text) {
        var p = document.createElement('p');
        p.textContent = text;
        status.textContent = '';
        status.appendChild(p);
      }
    }

    document.addEventListener('htmx:wsAfterMessage', function () {
      restoreFocus();
      typingSeen.splice(0).forEach(function (id) {
        clearTimeout(typingTimers[id]);
        typingTimers[id] = setTimeout(function () {
          delete typingTimers[id];
          var el = document.getElementById(id);
          if (el) {
            el.textContent = '';
          }
        }, TYPING_SHOWN_MS);
      });
      if (resyncPending) {
        resyncPending = false;
        refresh();
      }
    });

    // After a dropped connection is back (htmx-ext-ws reconnects after 1006,
    // 1011, 1012 and 1013), or when the server says pushes may have been lost,
    // the page fetches again what it shows. An open message form keeps what
    // was typed: then only the conversation's messages are fetched.
    document.addEventListener('htmx:wsOpen', function (event) {
      var elt = event.target;
      // The same wrapper across reconnects; it queues while reconnecting.
      socket = event.detail.socketWrapper;
      socketOpen = true;
      live.opened += 1;
      if (elt.dialoogLiveOpened) {
        refresh();
      }
      elt.dialoogLiveOpened = true;
    });

    function refresh() {
      var main = document.getElementById('main');
      if (!main) {
        return;
      }
      live.resyncs += 1;
      var url = location.pathname + location.search;
      var headers = {'X-Dialoog-Resync': 'true'};
      if (main.querySelector('form[data-message-form]')) {
        var list = main.querySelector('ol.messages[id]');
        if (list) {
          var sel = '#' + CSS.escape(list.id);
          htmx.ajax('GET', url, {target: sel, select: sel, swap: 'outerHTML', headers: headers});
        }
        return;
      }
      htmx.ajax('GET', url, {target: '#main', swap: 'innerHTML', headers: headers});
    }

    // 1008: the session ended (logout, revocation) or the user has too many
    // connections; htmx-ext-ws does not reconnect. After a login that only
    // swapped the main content, the body gets the connection back.
    document.addEventListener('htmx:wsClose', function (event) {
      var code = event.detail && event.detail.event && event.detail.event.code;
      socketOpen = false;
      if (code === 1008) {
        socket = null;
        document.body.removeAttribute('ws-connect');
        document.body.dialoogLiveOpened = false;
        // If it was the session that ended (not one socket too many),
        // the page leaves rather than keep showing the box.
        idle.sessionClosed();
      }
    });

    // Typing in a reply tells the other participants ("… is aan het
    // typen"): the conversation's id, at most every two seconds, never the
    // text. The server checks that the user takes part in it.
    document.addEventListener('input', function (event) {
      var el = event.target;
      var id = el && el.getAttribute ? el.getAttribute('data-typing') : null;
      if (!id || !socket) {
        return;
      }
      var now = Date.now();
      if (now - (typedAt[id] || 0) < TYPING_EVERY_MS) {
        return;
      }
      typedAt[id] = now;
      socket.send(JSON.stringify({typing: id}));
    });

    // Typing in any form of the page (a new message, a reply, the settings)
    // makes no request for as long as it takes, and the session would end
    // after 30 minutes idle, taking what was typed with it. While the live
    // connection is open, the page says its user is active, at most once a
    // minute and never what was typed; the server keeps the session alive.
    document.addEventListener('input', function (event) {
      var el = event.target;
      var form = el && (el.form || (el.closest ? el.closest('form') : null));
      if (!form || !socket || !socketOpen) {
        return;
      }
      var now = Date.now();
      if (now - activeAt < ACTIVE_EVERY_MS) {
        return;
      }
      activeAt = now;
      socket.send(JSON.stringify({active: true}));
      idle.activity();
    });

    document.addEventListener('htmx:afterSettle', function () {
      var body = document.body;
      if (!body.hasAttribute('ws-connect') && document.getElementById('inbox-link')) {
        body.setAttribute('ws-connect', '/ws');
        htmx.process(body);
      }
    });
  }

  // The service worker (/sw.js) makes the inbox installable and shows an
  // offline page, in the language of the last page read; it never caches
  // message content. Browsers only allow it on HTTPS and localhost.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {});
  }
  // "Meldingen op dit apparaat": ask permission, subscribe through the Push
  // API with the server's VAPID key and hand the subscription to the
  // server; or unsubscribe. The section says it needs script without it.
  function base64urlToBytes(s) {
    var pad = '='.repeat((4 - (s.length % 4)) % 4);
    var raw = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Csrf-Token': csrfToken() },
      body: JSON.stringify(body)
    }).then(function (res) {
      if (!res.ok) {
        throw new Error('push settings: ' + res.status);
      }
    });
  }

  function initPush() {
    var box = document.getElementById('push-settings');
    if (!box || box.getAttribute('data-push-ready')) {
      return;
    }
    box.setAttribute('data-push-ready', '1');
    var controls = box.querySelector('.push-controls');
    var status = box.querySelector('.push-status');
    var on = box.querySelector('[data-push="on"]');
    var off = box.querySelector('[data-push="off"]');
    controls.hidden = false;
    function say(name) {
      status.textContent = box.getAttribute('data-text-' + name) || '';
    }
    function show(subscribed) {
      on.hidden = subscribed;
      off.hidden = !subscribed;
      say(subscribed ? 'enabled' : 'disabled');
    }
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window) || !window.isSecureContext) {
      on.hidden = true;
      off.hidden = true;
      say('unsupported');
      return;
    }
    function registration() {
      return navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(function () {
        return navigator.serviceWorker.ready;
      });
    }
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      show(!!sub);
      if (!sub && Notification.permission === 'denied') {
        say('denied');
      }
    }).catch(function () {
      say('unsupported');
    });
    on.addEventListener('click', function () {
      on.disabled = true;
      Notification.requestPermission().then(function (permission) {
        if (permission !== 'granted') {
          throw new Error('denied');
        }
        return registration();
      }).then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: base64urlToBytes(box.getAttribute('data-vapid-key'))
        });
      }).then(function (sub) {
        return postJSON('/account/push', sub.toJSON());
      }).then(function () {
        show(true);
      }).catch(function (err) {
        say(err && err.message === 'denied' ? 'denied' : 'failed');
      }).then(function () {
        on.disabled = false;
      });
    });
    off.addEventListener('click', function () {
      off.disabled = true;
      registration().then(function (reg) {
        return reg.pushManager.getSubscription();
      }).then(function (sub) {
        if (!sub) {
          return null;
        }
        return postJSON('/account/push/uit', { endpoint: sub.endpoint }).then(function () {
          return sub.unsubscribe();
        });
      }).then(function () {
        show(false);
      }).catch(function () {
        say('failed');
      }).then(function () {
        off.disabled = false;
      });
    });
  }
  initPush();
  // The account page may arrive by htmx; initPush runs once a section.
  document.addEventListener('htmx:load', initPush);
})();
