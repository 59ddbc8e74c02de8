package i18n

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
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
