package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SMSSender delivers one text message. The idempotency key is the same for
// every attempt of one outbox row.
type SMSSender interface {
	Name() string
	Send(ctx context.Context, idempotencyKey string, s SMS) error
}

// SMSTimeout is the timeout of the default HTTP client of the gateways, and
// the worker's default bound on one SMS delivery.
const SMSTimeout = 10 * time.Second

type devSMS struct{}

func (devSMS) Name() string                            { return DevTransport }
func (devSMS) Send(context.Context, string, SMS) error { return nil }

// NewSMSSender returns the SMS transport for u:
//   - nil: the dev transport, which delivers nothing;
//   - webhook+https://host/path (or webhook+http://): POST of the JSON
//     {"to":"+316...","body":"..."} with the header Idempotency-Key; any 2xx
//     answer means delivered. User info in the URL becomes basic auth;
//   - twilio://SID:TOKEN@api.twilio.com?from=X (HTTPS; twilio+http:// for a
//     local test server): POST of the form To, From, Body to
//     /2010-04-01/Accounts/{SID}/Messages.json with basic auth and the header
//     I-Twilio-Idempotency-Token; 201 means accepted. A from starting with
//     "MG" is sent as MessagingServiceSid.
//
// client may be nil, in which case a client with an SMSTimeout timeout is
// used.
func NewSMSSender(u *url.URL, client *http.Client) (SMSSender, error) {
	if u == nil {
		return devSMS{}, nil
	}
	if client == nil {
		client = &http.Client{Timeout: SMSTimeout}
	}
	switch u.Scheme {
	case "webhook+https", "webhook+http":
		if u.Host == "" {
			return nil, errors.New("sms: no host in the webhook URL")
		}
		t := *u
		t.Scheme = strings.TrimPrefix(u.Scheme, "webhook+")
		w := &webhookSMS{client: client}
		if u.User != nil {
			w.user = u.User.Username()
			w.pass, _ = u.User.Password()
			w.hasAuth = true
			t.User = nil
		}
		w.url = t.String()
		w.shown = t.Scheme + "://" + t.Host + t.Path
		return w, nil
	case "twilio", "twilio+https", "twilio+http":
		scheme := "https"
		if u.Scheme == "twilio+http" {
			scheme = "http"
		}
		if u.User == nil || u.User.Username() == "" {
			return nil, errors.New("sms: twilio URL needs ACCOUNT_SID:AUTH_TOKEN@")
		}
		sid := u.User.Username()
		token, ok := u.User.Password()
		if !ok || token == "" {
			return nil, errors.New("sms: twilio URL needs an auth token")
		}
		host := u.Host
		if host == "" {
			host = "api.twilio.com"
		}
		from := u.Query().Get("from")
		if strings.HasPrefix(from, " ") {
			// An unescaped "+" in the query reads as a space.
			from = "+" + strings.TrimSpace(from)
		}
		if from == "" {
			return nil, errors.New("sms: twilio URL needs ?from=NUMBER or a messaging service SID")
		}
		base := scheme + "://" + host + strings.TrimSuffix(u.Path, "/")
		return &twilioSMS{
			client:   client,
			endpoint: base + "/2010-04-01/Accounts/" + url.PathEscape(sid) + "/Messages.json",
			shown:    scheme + "://" + host,
			sid:      sid,
			token:    token,
			from:     from,
		}, nil
	default:
		return nil, fmt.Errorf("sms: unsupported scheme %q (use webhook+https, webhook+http or twilio)", u.Scheme)
	}
}

// post sends req and returns the status and up to 4 KiB of the body. Errors
// name shown (the URL without credentials or query) instead of the real URL.
func post(client *http.Client, req *http.Request, shown string) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("POST %s: %w", shown, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("POST %s: read response: %w", shown, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return resp.StatusCode, body, nil
}

type webhookSMS struct {
	client     *http.Client
	url        string
	shown      string
	user, pass string
	hasAuth    bool
}

func (w *webhookSMS) Name() string { return "webhook" }

func (w *webhookSMS) Send(ctx context.Context, idempotencyKey string, s SMS) error {
	payload, err := json.Marshal(struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}{s.To, s.Body})
	if err != nil {
		return fmt.Errorf("sms webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("sms webhook: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	if w.hasAuth {
		req.SetBasicAuth(w.user, w.pass)
	}
	status, body, err := post(w.client, req, w.shown)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	if status < 200 || status > 299 {
		return classifyHTTP(status, fmt.Errorf("sms webhook: %s answered %d %s%s", w.shown, status, http.StatusText(status), snippet(body, s)))
	}
	return nil
}

// snippet returns a short, single-line excerpt of a gateway's answer for an
// error text, without the message text (which may hold a code) and the
// number, since error texts go to the log.
func snippet(body []byte, s SMS) string {
	t := redact(strings.TrimSpace(string(body)), s)
	t = strings.Join(strings.Fields(t), " ")
	if len(t) > 200 {
		t = t[:200] + "…"
	}
	if t == "" {
		return ""
	}
	return ": " + t
}

// redact removes the text and the number of s from t.
func redact(t string, s SMS) string {
	if s.Body != "" {
		t = strings.ReplaceAll(t, s.Body, "[body]")
	}
	if s.To != "" {
		t = strings.ReplaceAll(t, s.To, "[recipient]")
	}
	return t
}

type twilioSMS struct {
	client     *http.Client
	endpoint   string
	shown      string
	sid, token string
	from       string
}

func (t *twilioSMS) Name() string { return "twilio" }

func (t *twilioSMS) Send(ctx context.Context, idempotencyKey string, s SMS) error {
	form := url.Values{}
	form.Set("To", s.To)
	if strings.HasPrefix(t.from, "MG") {
		form.Set("MessagingServiceSid", t.from)
	} else {
		form.Set("From", t.from)
	}
	form.Set("Body", s.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms twilio: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("I-Twilio-Idempotency-Token", idempotencyKey)
	req.SetBasicAuth(t.sid, t.token)
	status, body, err := post(t.client, req, t.shown)
	if err != nil {
		return fmt.Errorf("sms twilio: %w", err)
	}
	if status == http.StatusCreated {
		return nil
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Code != 0 || e.Message != "") {
		msg := redact(e.Message, s)
		return classifyHTTP(status, fmt.Errorf("sms twilio: %d %s: error %d: %s", status, http.StatusText(status), e.Code, msg))
	}
	return classifyHTTP(status, fmt.Errorf("sms twilio: %d %s%s", status, http.StatusText(status), snippet(body, s)))
}

// classifyHTTP wraps err, a gateway's refusal with the given status, by what
// the status says: 400, 413 and 422 reject this message (a bad number, a
// body the gateway will not take), so retrying cannot help. Other statuses
// are about the gateway or the configuration (401, 403 and 404 are a wrong
// token or URL, which an operator fixes; 408, 429 and 5xx pass) and count as
// the transport being unavailable.
func classifyHTTP(status int, err error) error {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return &RejectedError{Err: err}
	}
	return err
}
