package i18n

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func loadCatalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	buf, err := catalogFS.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(buf, &m); err != nil {
		t.Fatalf("catalog %s: %v", lang, err)
	}
	return m
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestCatalogsHaveTheSameKeys guards against a text that exists in one
// language only, and against a translation that drops or renames a
// placeholder.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	ref := loadCatalog(t, Default)
	for _, lang := range Languages {
		cat := loadCatalog(t, lang)
		for k, v := range ref {
			other, ok := cat[k]
			if !ok {
				t.Errorf("%s: missing key %q", lang, k)
				continue
			}
			if other == "" {
				t.Errorf("%s: empty text for %q", lang, k)
			}
			if a, b := placeholders(v), placeholders(other); !slices.Equal(a, b) {
				t.Errorf("%s: key %q has placeholders %v, %s has %v", lang, k, b, Default, a)
			}
		}
		for k := range cat {
			if _, ok := ref[k]; !ok {
				t.Errorf("%s: key %q is not in the %s catalog", lang, k, Default)
			}
		}
		// Every key must also resolve through the bundle in its own language.
		l := For(lang)
		for k, v := range cat {
			if len(placeholders(v)) == 0 && l.T(k) != v {
				t.Errorf("%s: T(%q) = %q, want %q", lang, k, l.T(k), v)
			}
		}
	}
}

func TestT(t *testing.T) {
	nl, en := For("nl"), For("en")
	if got, want := nl.T("invite.lead", "Org", "OSAW"), "OSAW heeft je uitgenodigd om via Dialoog beveiligd berichten uit te wisselen."; got != want {
		t.Errorf("nl: got %q, want %q", got, want)
	}
	if got, want := en.T("invite.lead", "Org", "OSAW"), "OSAW has invited you to exchange secure messages via Dialoog."; got != want {
		t.Errorf("en: got %q, want %q", got, want)
	}
	// Output is text, not HTML: escaping is the renderer's job.
	if got := nl.T("invite.lead", "Org", "A & <B>"); got[:9] != "A & <B> h" {
		t.Errorf("T escaped its argument: %q", got)
	}
	if got := nl.T("no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: got %q", got)
	}
	if nl.Has("no.such.key") || !nl.Has("start.title") || !en.Has("start.title") {
		t.Error("Has reports wrong presence")
	}
	var zero Localizer
	if zero.Lang() != "nl" || zero.T("start.title") != "Welkom bij Dialoog" {
		t.Errorf("zero Localizer: lang %q, text %q", zero.Lang(), zero.T("start.title"))
	}
	if For("de").Lang() != "nl" || For("EN-gb").Lang() != "en" {
		t.Error("For does not normalise languages")
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		name, accept, user, want string
	}{
		{"empty", "", "", "nl"},
		{"english browser", "en-US,en;q=0.9", "", "en"},
		{"dutch browser", "nl-NL,nl;q=0.9,en;q=0.8", "", "nl"},
		{"quality order", "nl;q=0.5,en;q=0.9", "", "en"},
		{"unsupported first", "de-DE,de;q=0.9,en;q=0.5", "", "en"},
		{"only unsupported", "fr-FR,fr", "", "nl"},
		{"wildcard", "*", "", "nl"},
		{"excluded", "en;q=0", "", "nl"},
		{"garbage", "🙂;;;q=x", "", "nl"},
		{"user setting wins", "en-US", "nl", "nl"},
		{"user setting english", "nl", "en", "en"},
		{"unsupported user setting", "en", "de", "en"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.accept, tc.user); got != tc.want {
				t.Errorf("Match(%q, %q) = %q, want %q", tc.accept, tc.user, got, tc.want)
			}
		})
	}
}

// goi18nT is what T returned when it ran go-i18n for every call: the
// reference the precompiled texts must match.
func goi18nT(lang, key string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := goi18n.NewLocalizer(bundle, lang, Default).Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	return s
}

// TestTMatchesGoI18n renders every key of every catalog, in every
// language, through T and through go-i18n, with the arguments complete,
// missing, duplicated and of several types, and wants the same text.
func TestTMatchesGoI18n(t *testing.T) {
	type stringer struct{ fmt.Stringer }
	for _, lang := range append(Languages, "de") {
		l := For(lang)
		for key, text := range loadCatalog(t, Default) {
			names := placeholders(text)
			var full, ints, partial, dup []any
			for i, n := range names {
				full = append(full, n, "A & <b> “"+n+"” {{.X}}")
				ints = append(ints, n, 1234567*(i+1))
				dup = append(dup, n, "first", n, int64(-5))
				if i > 0 {
					partial = append(partial, n, nil)
				}
			}
			cases := map[string][]any{
				"none": nil, "full": full, "ints": ints, "partial": partial, "dup": dup,
				"extra": append(append([]any{}, full...), "Unknown", "x", "odd"),
				"types": append(append([]any{}, partial...), "N", 2.5, "Org", true, "Name", time.Month(3)),
			}
			for name, args := range cases {
				if got, want := l.T(key, args...), goi18nT(For(lang).Lang(), key, args...); got != want {
					t.Errorf("%s %s (%s): T = %q, go-i18n = %q", lang, key, name, got, want)
				}
				if got, want := string(l.AppendT([]byte("x"), key, args...)), "x"+l.T(key, args...); got != want {
					t.Errorf("%s %s (%s): AppendT = %q, want %q", lang, key, name, got, want)
				}
			}
		}
	}
	if got := string(For("nl").AppendT(nil, "no.such.key")); got != "no.such.key" {
		t.Errorf("AppendT of an unknown key: %q", got)
	}
	if got := For("nl").T("no.such.key", "N", 1); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}

// TestTAllocations: a text without placeholders is returned as stored; one
// with placeholders is built in a single allocation.
func TestTAllocations(t *testing.T) {
	l := For("nl")
	if n := testing.AllocsPerRun(100, func() { _ = l.T("inbox.title") }); n != 0 {
		t.Errorf("T without placeholders: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = l.T("inbox.unread_badge", "N", 12) }); n != 1 {
		t.Errorf("T with one placeholder: %v allocations", n)
	}
}

// TestCatalogKeysOnce: a key written twice in a catalog (two changes that
// each added it) silently keeps only its last text.
func TestCatalogKeysOnce(t *testing.T) {
	for _, lang := range Languages {
		buf, err := catalogFS.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(buf))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := tok.(string)
			if seen[key] {
				t.Errorf("%s: key %q is written twice", lang, key)
			}
			seen[key] = true
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
	}
}
