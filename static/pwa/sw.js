// Dialoog's service worker, served at /sw.js so that its scope is the whole
// site. It makes the inbox installable and shows an offline page when there
// is no network. Its cache holds that page and its stylesheet only: every
// other response, and above all any page with message content, goes to the
// network and is never stored. Push messages carry no content either; the
// notification only says that there is a new message.
'use strict';

// The page registers the worker as /sw.js?lang=<its <html lang>>: a page
// in another language (the person switched, or someone else uses the
// device) registers another worker, which keeps the offline page of its
// language and removes the cache of the one before.
var LANG = new URL(self.location.href).searchParams.get('lang') === 'en' ? 'en' : 'nl';
var CACHE = 'dialoog-offline-v2-' + LANG;
var OFFLINE = '/offline';
var STYLES = '/static/css/app.css';
// The only URLs ever put in the cache.
var PRECACHE = [OFFLINE, STYLES];

// The offline page is fetched in the worker's language and kept under
// /offline.
self.addEventListener('install', function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        return Promise.all([
          fetch(OFFLINE + '?lang=' + LANG, { credentials: 'omit' }).then(function (res) {
            if (!res.ok) {
              throw new Error('offline page: ' + res.status);
            }
            return cache.put(OFFLINE, res);
          }),
          cache.add(STYLES)
        ]);
      })
      .then(function () { return self.skipWaiting(); })
  );
});

// Older caches (another version of this file, or the worker of another
// language) are removed.
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
    event.respondWith(fetch(req).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); });
    }));
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
