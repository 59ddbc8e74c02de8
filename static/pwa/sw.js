// Dialoog's service worker, served at /sw.js so that its scope is the whole
// site. It makes the inbox installable and shows an offline page when there
// is no network. Its cache holds that page and its stylesheet only: every
// other response, and above all any page with message content, goes to the
// network and is never stored. Push messages carry no content either; the
// notification only says that there is a new message.
'use strict';

// The offline page is kept in each language, fetched without cookies
// (so it carries no name and no CSRF token). The worker shows the one of
// the language the person last read Dialoog in: the Content-Language of
// the last page that came from the network, remembered in the cache (a
// worker is stopped and started again at any time). One script address
// for everyone: a change of language replaces nothing.
var CACHE = 'dialoog-offline-v3';
var LANGS = ['nl', 'en'];
var STYLES = '/static/css/app.css';
var LANG_KEY = '/offline-language';
function offlineURL(lang) { return '/offline?lang=' + lang; }
// The only URLs ever put in the cache: the offline pages, their
// stylesheet and the language to show.
var PRECACHE = [STYLES];

self.addEventListener('install', function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        return Promise.all(LANGS.map(function (lang) {
          return fetch(offlineURL(lang), { credentials: 'omit' }).then(function (res) {
            if (!res.ok) {
              throw new Error('offline page: ' + res.status);
            }
            return cache.put(offlineURL(lang), res);
          });
        }).concat([cache.add(STYLES)]));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

// Older caches (another version of this file) are removed.
self.addEventListener('activate', function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (k) { return k !== CACHE; })
          .map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

// lastLang is the language last remembered, while this worker runs.
var lastLang = null;

// remember notes the language of a page that came from the network.
function remember(res) {
  var lang = res.headers.get('Content-Language');
  if (LANGS.indexOf(lang) >= 0 && lang !== lastLang) {
    lastLang = lang;
    caches.open(CACHE).then(function (cache) {
      return cache.put(LANG_KEY, new Response(lang, { headers: { 'Content-Type': 'text/plain' } }));
    }).catch(function () {});
  }
  return res;
}

// offlinePage is the kept offline page in the remembered language (Dutch
// when none was).
function offlinePage() {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(LANG_KEY)
      .then(function (r) { return r ? r.text() : 'nl'; })
      .then(function (lang) { return cache.match(offlineURL(LANGS.indexOf(lang) >= 0 ? lang : 'nl')); });
  });
}

// Network only. A page that cannot be loaded shows the offline page; the
// offline page's stylesheet comes from the cache when the network is gone.
// Nothing fetched here is written to the cache.
self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') {
    return;
  }
  var url = new URL(req.url);
  if (req.mode === 'navigate') {
    event.respondWith(fetch(req).then(remember).catch(offlinePage));
    return;
  }
  if (url.origin === self.location.origin && PRECACHE.indexOf(url.pathname) >= 0) {
    event.respondWith(fetch(req).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(url.pathname); });
    }));
  }
});

// A push says only that there is something new ("Nieuw bericht in
// Dialoog"); the payload is {title, url} and nothing else.
self.addEventListener('push', function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  var title = data.title || 'Dialoog';
  event.waitUntil(self.registration.showNotification(title, {
    tag: 'dialoog-new-message',
    icon: '/static/icons/icon-192.png',
    data: { url: data.url || '/berichten' }
  }));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var target = (event.notification.data && event.notification.data.url) || '/berichten';
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).origin === self.location.origin && 'focus' in list[i]) {
        return list[i].navigate(target).then(function (c) { return c && c.focus(); });
      }
    }
    return self.clients.openWindow(target);
  }));
});
