package config

import (
	"io"
	"net/url"
	"testing"
)

// FuzzURLs: the URL settings (SMTP, SMS, blob store, database) never
// panic, and a configuration that loads, written back as its URLs, loads
// to the same URLs (what was accepted means one thing).
func FuzzURLs(f *testing.F) {
	f.Add("smtp://user:pw@mail.example.nl:587", "webhook+https://sms.example.nl/send", "s3://a:b@s3.example.nl/bucket?region=eu", "postgres://u@db:5432/d")
	f.Add("smtps://mail.example.nl?tls=required", "twilio://SID:TOKEN@api.twilio.com?from=Dialoog", "datadir", "")
	f.Add("smtp://[::1]:25?tls=none", "twilio+http://a:b@127.0.0.1:1?from=x", "postgres", "postgresql://%zz")
	f.Add("smtp://", "webhook+ftp://x", "s3://", "postgres://")
	f.Fuzz(func(t *testing.T, smtp, sms, blobURL, database string) {
		env := map[string]string{"DIALOOG_MAIL_FROM": "no-reply@example.nl", "DIALOOG_SMTP_URL": smtp, "DIALOOG_SMS_URL": sms, "DIALOOG_BLOB_URL": blobURL, "DIALOOG_DATABASE_URL": database}
		c, _, err := Load(func(k string) string { return env[k] }, nil, io.Discard)
		if err != nil {
			return
		}
		again := map[string]string{"DIALOOG_MAIL_FROM": "no-reply@example.nl", "DIALOOG_BLOB_URL": blobURL, "DIALOOG_DATABASE_URL": c.DatabaseURL}
		if c.SMTPURL != nil {
			again["DIALOOG_SMTP_URL"] = c.SMTPURL.String()
		}
		if c.SMSURL != nil {
			again["DIALOOG_SMS_URL"] = c.SMSURL.String()
		}
		c2, _, err := Load(func(k string) string { return again[k] }, nil, io.Discard)
		if err != nil {
			t.Fatalf("loaded %v, its URLs %v do not: %v", env, again, err)
		}
		if str(c.SMTPURL) != str(c2.SMTPURL) || str(c.SMSURL) != str(c2.SMSURL) || c.DatabaseURL != c2.DatabaseURL || c.Blob.Kind != c2.Blob.Kind {
			t.Fatalf("%v and %v load differently", env, again)
		}
	})
}

func str(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}
