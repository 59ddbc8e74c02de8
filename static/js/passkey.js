// Passkeys (WebAuthn): the browser half of adding one and of logging in
// with one. Loaded with defer, never inline (CSP script-src 'self'); no
// framework. A passkey block is rendered hidden and shown only when the
// browser offers WebAuthn; without script the rest of each page works as
// before, and the passkey block stays hidden (a <noscript> line says so).
//
// Each block is a <form data-passkey="create|get" data-options="URL">
// with a hidden "credential" field. On submit the script asks the server
// for the ceremony's options (a POST with the CSRF header; the challenge
// stays on the server), lets the browser create or use the passkey, puts
// its answer (JSON) in the field and submits the form the ordinary way:
// the server answers with a redirect or the page with a message.
// A form with data-passkey-autofill also offers the passkeys in the mail
// address field's autofill (conditional mediation) where the browser can.
(function () {
  'use strict';

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function fromB64(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) {
      s += '=';
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // decodeOptions turns the server's JSON options into what the WebAuthn
  // API takes: the challenge, the user id and credential ids as bytes.
  function decodeOptions(pk) {
    pk.challenge = fromB64(pk.challenge);
    if (pk.user && pk.user.id) {
      pk.user.id = fromB64(pk.user.id);
    }
    ['excludeCredentials', 'allowCredentials'].forEach(function (name) {
      (pk[name] || []).forEach(function (c) {
        c.id = fromB64(c.id);
      });
    });
    return pk;
  }

  function encodeCredential(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toB64(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) {
        response.transports = r.getTransports();
      }
    } else {
      response.authenticatorData = toB64(r.authenticatorData);
      response.signature = toB64(r.signature);
      if (r.userHandle) {
        response.userHandle = toB64(r.userHandle);
      }
    }
    return JSON.stringify({
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    });
  }

  function fetchOptions(form) {
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Csrf-Token': csrfToken(), Accept: 'application/json' }
    }).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) {
          throw { serverMessage: body && body.error ? body.error : '' };
        }
        return body;
      });
    });
  }

  function showError(form, text) {
    var el = form.querySelector('[data-passkey-error]');
    if (el) {
      el.textContent = text || el.getAttribute('data-passkey-error');
      el.hidden = false;
    }
  }

  var pending = null; // the AbortController of a conditional request

  function ceremony(form, conditional) {
    if (pending) {
      pending.abort();
      pending = null;
    }
    var button = form.querySelector('button[type=submit]');
    return fetchOptions(form).then(function (options) {
      var pk = decodeOptions(options.publicKey);
      if (form.getAttribute('data-passkey') === 'create') {
        return navigator.credentials.create({ publicKey: pk });
      }
      var req = { publicKey: pk };
      if (conditional) {
        pending = new AbortController();
        req.mediation = 'conditional';
        req.signal = pending.signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      if (!cred) {
        return;
      }
      form.querySelector('input[name=credential]').value = encodeCredential(cred);
      if (button) {
        button.disabled = true;
      }
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function setUp(form) {
    form.hidden = false;
    var block = form.closest('[data-passkey-block]');
    if (block) {
      block.hidden = false;
    }
    form.addEventListener('submit', function (event) {
      if (form.querySelector('input[name=credential]').value !== '') {
        return;
      }
      event.preventDefault();
      var name = form.querySelector('input[name=name]');
      if (name && !name.reportValidity()) {
        return;
      }
      ceremony(form, false).catch(function (err) {
        if (err && err.name === 'AbortError') {
          return;
        }
        showError(form, err && err.serverMessage);
      });
    });
    if (form.hasAttribute('data-passkey-autofill') && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) {
          ceremony(form, true).catch(function () {});
        }
      });
    }
  }

  function init(root) {
    var forms = (root || document).querySelectorAll('form[data-passkey]');
    for (var i = 0; i < forms.length; i++) {
      if (!forms[i].hasAttribute('data-passkey-ready')) {
        forms[i].setAttribute('data-passkey-ready', '');
        setUp(forms[i]);
      }
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { init(); });
  } else {
    init();
  }
  // Pages swapped in by htmx bring their own blocks.
  document.addEventListener('htmx:afterSettle', function (event) {
    init(event.detail.target);
  });
})();
