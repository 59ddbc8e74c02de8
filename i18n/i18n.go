// Package i18n owns Dialoog's user-facing text: one message catalog per
// language (Dutch first, English second), the choice of language for a
// request, and lookups with named arguments. It must not know about HTTP,
// storage or markup: callers escape its output where they render it.
package i18n

import (
	"embed"
	"fmt"
	"path"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Default is the language used when neither the user nor the browser asks for
// a supported one: Dialoog's users are mostly Dutch.
const Default = "nl"

// Languages lists the supported languages, the default first.
var Languages = []string{"nl", "en"}

//go:embed catalog/*.json
var catalogFS embed.FS

// bundle holds every catalog. It is built once at init and only read
// afterwards, which is what go-i18n requires for concurrent use.
var bundle = mustLoad()

// localizers holds one Localizer per supported language; they are immutable,
// so every request shares them.
var localizers = func() map[string]Localizer {
	m := make(map[string]Localizer, len(Languages))
	for _, lang := range Languages {
		m[lang] = Localizer{lang: lang, loc: goi18n.NewLocalizer(bundle, lang, Default)}
	}
	return m
}()

func mustLoad() *goi18n.Bundle {
	b := goi18n.NewBundle(language.Dutch)
	for _, lang := range Languages {
		name := path.Join("catalog", lang+".json")
		buf, err := catalogFS.ReadFile(name)
		if err != nil {
			panic(fmt.Errorf("i18n: read catalog %s: %w", name, err))
		}
		// go-i18n's JSON format is the default one; no unmarshal func needed.
		if _, err := b.ParseMessageFileBytes(buf, name); err != nil {
			panic(fmt.Errorf("i18n: parse catalog %s: %w", name, err))
		}
	}
	return b
}

// Localizer translates message keys into one language. The zero value
// translates into Default.
type Localizer struct {
	lang string
	loc  *goi18n.Localizer
}

// For returns the Localizer for lang, or for Default when lang is not
// supported. Missing keys fall back to the Dutch text.
func For(lang string) Localizer {
	if l, ok := localizers[supported(lang)]; ok {
		return l
	}
	return localizers[Default]
}

// Lang returns the language code of l ("nl" or "en"), for lang attributes
// and Content-Language headers.
func (l Localizer) Lang() string {
	if l.lang == "" {
		return Default
	}
	return l.lang
}

func (l Localizer) localizer() *goi18n.Localizer {
	if l.loc == nil {
		return For(Default).loc
	}
	return l.loc
}

// T returns the text for key with args as name/value pairs filled into the
// message's {{.Name}} placeholders: T("invite.lead", "Org", name). The result
// is plain text, not HTML. An unknown key returns the key itself, so a
// missing translation shows up in tests and screenshots instead of as an
// empty string.
func (l Localizer) T(key string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := l.localizer().Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	return s
}

// Has reports whether key exists in a catalog. Handlers use it to fall back
// to a generic message when a service returns a key nobody translated.
func (l Localizer) Has(key string) bool {
	if key == "" {
		return false
	}
	_, err := l.localizer().Localize(&goi18n.LocalizeConfig{MessageID: key})
	return err == nil
}

// Match chooses the language for a request: the user's own setting when it is
// supported, else the first supported language in the Accept-Language header
// (by quality), else Default.
func Match(acceptLanguage, userSetting string) string {
	if lang := supported(userSetting); lang != "" {
		return lang
	}
	// The header is outside input; a very long one is not worth parsing.
	if len(acceptLanguage) > 1024 {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return Default
	}
	for _, t := range tags { // sorted by quality, q=0 already dropped
		if lang := supported(t.String()); lang != "" {
			return lang
		}
	}
	return Default
}

// supported returns the supported base language of tag ("en-GB" -> "en"), or
// "" when tag is not one of Languages.
func supported(tag string) string {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	// A wildcard or script-only tag yields a guessed base; only an explicit
	// language counts as asking for it.
	base, conf := t.Base()
	if conf != language.Exact {
		return ""
	}
	for _, lang := range Languages {
		if base.String() == lang {
			return lang
		}
	}
	return ""
}
