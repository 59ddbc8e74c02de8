package auth

// HOTP exposes the test's independent RFC 4226 implementation to the
// external test package.
var HOTP = hotp
