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
	"sort"
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
//     I-Twilio-Idempotency-Token; 201 means accepted. A from that is a
//     messaging service SID ("MG" and 32 hex digits) is sent as
//     MessagingServiceSid.
//
// client may be nil, in which case a client with an SMSTimeout timeout is
// used. Redirects of the gateway are not followed: they are errors.
func NewSMSSender(u *url.URL, client *http.Client) (SMSSender, error) {
	if u == nil {
		return devSMS{}, nil
	}
	if client == nil {
		client = &http.Client{Timeout: SMSTimeout}
	}
	// A redirect is never followed: one that turns the POST into a GET
	// drops the text while the answer to the GET may read as delivered,
	// and the credentials must not go where it points. Its status is the
	// error an operator sees.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client = &c
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

// redact removes the text and the number of s from t, in the forms a
// gateway quotes them in: as sent, escaped in JSON or a form (a code's text
// has line breaks), the number also without its "+" or by its last nine
// digits (a national form), and every run of four or more digits of the
// text (a code) wherever it stands.
func redact(t string, s SMS) string {
	type secret struct{ text, shown string }
	var secrets []secret
	add := func(shown string, texts ...string) {
		for _, v := range texts {
			if v != "" {
				secrets = append(secrets, secret{v, shown})
			}
		}
	}
	if s.Body != "" {
		add("[body]", s.Body, jsonString(s.Body), url.QueryEscape(s.Body))
		add("[code]", digitRuns(s.Body, 4)...)
	}
	if s.To != "" {
		digits := strings.TrimPrefix(s.To, "+")
		add("[recipient]", s.To, url.QueryEscape(s.To), digits)
		if len(digits) > 9 {
			add("[recipient]", digits[len(digits)-9:])
		}
	}
	// The longest first, so that a whole text goes before the code in it.
	sort.SliceStable(secrets, func(i, j int) bool { return len(secrets[i].text) > len(secrets[j].text) })
	for _, x := range secrets {
		t = strings.ReplaceAll(t, x.text, x.shown)
	}
	return t
}

// jsonString is v as it stands between the quotes of a JSON string, with
// the escapes of most encoders (line breaks, and no HTML escaping).
func jsonString(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(b.String(), `"`), "\n"), `"`)
}

// digitRuns returns the runs of at least min digits in v.
func digitRuns(v string, min int) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] >= '0' && v[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= min {
			runs = append(runs, v[start:i])
		}
		start = -1
	}
	return runs
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
	if messagingServiceSID(t.from) {
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

// messagingServiceSID reports whether from is a Twilio messaging service
// SID ("MG" and 32 hexadecimal digits) rather than a sender: a number or
// an alphanumeric sender ID (at most 11 characters) such as "MGZ Arbo".
func messagingServiceSID(from string) bool {
	if len(from) != 34 || !strings.HasPrefix(from, "MG") {
		return false
	}
	for _, c := range from[2:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
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
