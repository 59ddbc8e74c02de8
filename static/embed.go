// Package static holds Dialoog's browser assets (own CSS and JS, vendored
// htmx 2 and its WebSocket extension) embedded in the binary, so a deployment
// is one file and needs no npm. It only exposes the files; caching and
// content types are the handlers' business.
package static

import "embed"

// FS holds css/*.css, js/*.js, vendor/*.js (not the vendor README), the
// app icons and, under pwa/, the service worker
// (served from the site root, see handlers).
// Vendored file names carry their version, so handlers may cache them for a
// long time.
//
//go:embed css/*.css js/*.js vendor/*.js icons/*.png pwa/sw.js
var FS embed.FS
