package auth

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
)

// A device mark says that a browser completed a login (both steps) of an
// account: "userID.deviceID.mac", where mac is the app key's HMAC of the
// rest. Login attempts that present a valid mark for the account are
// counted in the device's own bucket, so that failures from elsewhere do
// not lock the owner out of a browser they used before. The device cookie
// holds the marks of the last few accounts that logged in on the browser.

// DeviceCookieMaxAge is how long a browser keeps its device cookie, in
// seconds (a year).
const DeviceCookieMaxAge = 365 * 24 * 3600

// maxDeviceMarks is how many accounts' marks one cookie keeps.
const maxDeviceMarks = 4

const deviceSep = "~"

// RememberDevice returns the device cookie value after a completed login of
// userID on a browser whose cookie was cookie: the account's mark (kept
// when the cookie already holds a valid one, new otherwise) first, then
// the other valid marks, at most a few.
func (a *Accounts) RememberDevice(cookie string, userID int64) string {
	mine := ""
	var others []string
	for _, m := range strings.Split(cookie, deviceSep) {
		uid, _, ok := a.openDeviceMark(m)
		switch {
		case !ok:
		case uid == userID && mine == "":
			mine = m
		case uid != userID:
			others = append(others, m)
		}
	}
	if mine == "" {
		mine = a.newDeviceMark(userID)
	}
	marks := append([]string{mine}, others...)
	return strings.Join(marks[:min(len(marks), maxDeviceMarks)], deviceSep)
}

// deviceOf returns the device id of cookie's valid mark for userID.
func (a *Accounts) deviceOf(cookie string, userID int64) (string, bool) {
	if cookie == "" || userID == 0 {
		return "", false
	}
	for _, m := range strings.SplitN(cookie, deviceSep, maxDeviceMarks+1) {
		if uid, id, ok := a.openDeviceMark(m); ok && uid == userID {
			return id, true
		}
	}
	return "", false
}

func (a *Accounts) newDeviceMark(userID int64) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("auth: random: " + err.Error())
	}
	body := strconv.FormatInt(userID, 10) + "." + base64.RawURLEncoding.EncodeToString(b)
	return body + "." + a.deviceMAC(body)
}

func (a *Accounts) deviceMAC(body string) string {
	return base64.RawURLEncoding.EncodeToString(a.Vault.MAC([]byte("device|" + body))[:16])
}

// openDeviceMark checks a mark's MAC and returns its user and device id.
func (a *Accounts) openDeviceMark(m string) (int64, string, bool) {
	if len(m) > 128 {
		return 0, "", false
	}
	i := strings.LastIndexByte(m, '.')
	if i < 0 {
		return 0, "", false
	}
	body, mac := m[:i], m[i+1:]
	if !equalMAC([]byte(a.deviceMAC(body)), []byte(mac)) {
		return 0, "", false
	}
	uid, id, ok := strings.Cut(body, ".")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.ParseInt(uid, 10, 64)
	if err != nil || n <= 0 {
		return 0, "", false
	}
	return n, id, true
}
