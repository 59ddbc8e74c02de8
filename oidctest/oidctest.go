// Package oidctest starts a real OpenID Connect provider for tests: the
// provider package of zitadel/oidc (pkg/op) with the in-memory storage and
// login page of its example server, on a loopback port. Tests add people,
// register Dialoog as a client, send back-channel logout tokens and, to
// test what Dialoog refuses, tamper with the ID token the token endpoint
// hands out. It is used by tests only.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Password is the password of every person the provider knows.
const Password = "verysecure"

// Provider is a running OpenID provider.
type Provider struct {
	Issuer string
	srv    *httptest.Server
	key    *rsa.PrivateKey
	keyID  string
	users  *userStore

	mu     sync.Mutex
	tamper func(claims map[string]any) (alg string)
}

// Start starts a provider that knows the client clientID (secret, web
// application) with redirectURI; it stops at the end of the test.
func Start(t testing.TB, clientID, secret string, redirectURIs ...string) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key, keyID: "test-key", users: &userStore{users: map[string]*storage.User{}}}
	p.srv = httptest.NewUnstartedServer(nil)
	p.srv.Start()
	p.Issuer = p.srv.URL
	client := storage.WebClient(clientID, secret, redirectURIs...)
	st := &store{Storage: storage.NewStorageWithClients(p.users, map[string]*storage.Client{clientID: client}), p: p}
	quiet := slog.New(slog.DiscardHandler)
	prev := slog.Default()
	router := exampleop.SetupServer(p.Issuer, st, quiet, false)
	slog.SetDefault(prev) // SetupServer replaces the process's logger
	p.srv.Config.Handler = p.tamperToken(router)
	t.Cleanup(p.srv.Close)
	return p
}

// AddUser adds a person who logs in at the provider with username and
// Password, and whose ID token carries email, email_verified and the
// names.
func (p *Provider) AddUser(id, username, email string, verified bool, first, last string) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	p.users.users[id] = &storage.User{ID: id, Username: username, Password: Password, Email: email, EmailVerified: verified,
		FirstName: first, LastName: last, PreferredLanguage: language.Dutch}
}

// RemoveUser removes a person: the provider no longer lets them log in.
func (p *Provider) RemoveUser(id string) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	delete(p.users.users, id)
}

// Tamper makes the token endpoint hand out an ID token with its claims
// changed by f and signed again with the provider's key, or unsigned when
// f returns "none"; nil stops tampering.
func (p *Provider) Tamper(f func(claims map[string]any) (alg string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// Sign signs claims as a JWT with the provider's key.
func (p *Provider) Sign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: p.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return s
}

// Unsigned returns claims as a JWT with alg "none".
func Unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// LogoutToken is a back-channel logout token for subject (and sid when
// not empty), for clientID, issued now.
func (p *Provider) LogoutToken(clientID, subject, sid string) string {
	now := time.Now()
	c := map[string]any{"iss": p.Issuer, "aud": clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": fmt.Sprint(now.UnixNano()), "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	if subject != "" {
		c["sub"] = subject
	}
	if sid != "" {
		c["sid"] = sid
	}
	return p.Sign(c)
}

// BackChannelLogout posts a logout token for subject to url, as the
// provider does when the person logs out there, and returns the status.
func (p *Provider) BackChannelLogout(ctx context.Context, url, clientID, subject string) (int, error) {
	return PostLogoutToken(ctx, url, p.LogoutToken(clientID, subject, ""))
}

// PostLogoutToken posts a logout token to url and returns the status.
func PostLogoutToken(ctx context.Context, target, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// LogIn plays the browser at the provider: it opens authURL, logs in
// with username and Password on the provider's login page and returns
// the address the provider sends the browser back to (Dialoog's
// callback, with code and state).
func (p *Provider) LogIn(ctx context.Context, authURL, username string) (string, error) {
	jar, _ := cookiejar.New(nil)
	var back string
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), p.Issuer) {
			back = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		return "", fmt.Errorf("no login page at the provider (%s): %s", resp.Status, body)
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {Password}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/login/username", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if back == "" {
		return "", fmt.Errorf("provider did not send the browser back (%s): %s", resp.Status, body)
	}
	return back, nil
}

// tamperToken rewrites the ID token of the token endpoint's answer while
// Tamper is set.
func (p *Provider) tamperToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		f := p.tamper
		p.mu.Unlock()
		if f == nil || r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if raw, ok := body["id_token"].(string); ok {
				parts := strings.Split(raw, ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				var claims map[string]any
				if err := json.Unmarshal(payload, &claims); err == nil {
					if f(claims) == "none" {
						body["id_token"] = Unsigned(claims)
					} else {
						body["id_token"] = p.Sign(claims)
					}
				}
			}
		}
		out, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

// store is the example's in-memory storage with the test's signing key
// and ID tokens that carry the mail address and names.
type store struct {
	*storage.Storage
	p *Provider
}

type signingKey struct{ p *Provider }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.p.key }
func (k signingKey) ID() string                                  { return k.p.keyID }

type publicKey struct{ p *Provider }

func (k publicKey) ID() string                         { return k.p.keyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.p.key.PublicKey }

func (s *store) SigningKey(context.Context) (op.SigningKey, error) { return signingKey{s.p}, nil }
func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *store) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s.p}}, nil }

// GetClientByClientID asserts the userinfo claims (mail, names) into the
// ID token, as Entra ID, Google and Keycloak do.
func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimsClient{c}, nil
}

type claimsClient struct{ op.Client }

func (claimsClient) IDTokenUserinfoClaimsAssertion() bool { return true }

type userStore struct {
	mu    sync.Mutex
	users map[string]*storage.User
}

func (u *userStore) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.users[id]
}

func (u *userStore) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return "service" }
