// Package i18n owns Dialoog's user-facing text: one message catalog per
// language (Dutch first, English second), the choice of language for a
// request, and lookups with named arguments. It must not know about HTTP,
// storage or markup: callers escape its output where they render it.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
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
		msgs := compile(lang)
		l := Localizer{lang: lang, messages: msgs}
		if months := strings.Fields(msgs["date.months"].text); len(months) == 12 {
			l.months = (*[12]string)(months)
		}
		m[lang] = l
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

// message is one catalog text, resolved for one language once, at init:
// pages look up dozens of texts per row, and running go-i18n (a language
// match and a text/template execution) for each is most of a page's
// rendering time. A text without placeholders is kept whole in text; a text
// with placeholders is split into parts, literals and argument names in
// turn (parts[0], parts[2], ... are literal, parts[1], parts[3], ... name
// an argument).
type message struct {
	text  string
	parts []string
}

// placeholderPattern is the one template form the catalogs may use:
// {{.Name}}. Anything else (conditions, pipelines, plural forms) would need
// go-i18n at every call; compile refuses it.
var placeholderPattern = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// hole marks an argument in go-i18n's output while a text is compiled. It
// cannot occur in a catalog (compile checks).
const hole = "\x00"

// compile resolves every key of every catalog for lang through go-i18n,
// including its fallback to Default, and keeps the result. A text with
// placeholders is rendered once with marked argument values and split at
// the marks, so that the literal text is exactly go-i18n's.
func compile(lang string) map[string]message {
	loc := goi18n.NewLocalizer(bundle, lang, Default)
	own, fallback := readCatalog(lang), readCatalog(Default)
	out := make(map[string]message, len(fallback))
	for key, src := range own {
		if msg, ok := compileText(loc, lang, key, src); ok {
			out[key] = msg
		}
	}
	for key, src := range fallback { // the text go-i18n falls back to
		if _, done := out[key]; !done {
			if msg, ok := compileText(loc, lang, key, src); ok {
				out[key] = msg
			}
		}
	}
	return out
}

// compileText compiles one text; ok is false when go-i18n does not find
// key for lang (a key in another language's catalog only), which T then
// treats as unknown, as go-i18n did.
func compileText(loc *goi18n.Localizer, lang, key, src string) (msg message, ok bool) {
	if strings.Contains(src, hole) {
		panic(fmt.Errorf("i18n: %s %q contains a NUL character", lang, key))
	}
	names := placeholderPattern.FindAllStringSubmatch(src, -1)
	if rest := placeholderPattern.ReplaceAllString(src, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		panic(fmt.Errorf("i18n: %s %q: only {{.Name}} placeholders are supported", lang, key))
	}
	var data map[string]any
	if len(names) > 0 {
		data = make(map[string]any, len(names))
		for _, n := range names {
			data[n[1]] = hole + n[1] + hole
		}
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return message{}, false
	}
	if data == nil {
		return message{text: s}, true
	}
	parts := strings.Split(s, hole)
	if len(parts)%2 != 1 {
		panic(fmt.Errorf("i18n: %s %q: unbalanced placeholders in %q", lang, key, s))
	}
	return message{parts: parts}, true
}

// readCatalog returns lang's catalog as a flat map. The catalogs are
// embedded and already parsed by go-i18n, so an error cannot happen.
func readCatalog(lang string) map[string]string {
	buf, err := catalogFS.ReadFile(path.Join("catalog", lang+".json"))
	if err != nil {
		panic(fmt.Errorf("i18n: read catalog %s: %w", lang, err))
	}
	m := map[string]string{}
	if err := json.Unmarshal(buf, &m); err != nil {
		panic(fmt.Errorf("i18n: catalog %s is not a flat map of texts: %w", lang, err))
	}
	return m
}

// Localizer translates message keys into one language. The zero value
// translates into Default.
type Localizer struct {
	lang     string
	messages map[string]message
	// months are the month names, January first; nil when the catalog
	// does not have twelve.
	months *[12]string
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

func (l Localizer) table() map[string]message {
	if l.messages == nil {
		return localizers[Default].messages
	}
	return l.messages
}

// T returns the text for key with args as name/value pairs filled into the
// message's {{.Name}} placeholders: T("invite.lead", "Org", name). The result
// is plain text, not HTML. An unknown key returns the key itself, so a
// missing translation shows up in tests and screenshots instead of as an
// empty string. The result is what go-i18n would return (a test compares
// every key), without its cost: a text without placeholders is returned as
// stored, one with placeholders costs one allocation (two beyond 256 bytes).
func (l Localizer) T(key string, args ...any) string {
	msg, ok := l.table()[key]
	if !ok {
		return key
	}
	if msg.parts == nil {
		return msg.text
	}
	var buf [256]byte
	return string(msg.append(buf[:0], args))
}

// AppendT appends T(key, args...) to dst, for a caller that writes many
// texts and reuses one buffer.
func (l Localizer) AppendT(dst []byte, key string, args ...any) []byte {
	msg, ok := l.table()[key]
	if !ok {
		return append(dst, key...)
	}
	if msg.parts == nil {
		return append(dst, msg.text...)
	}
	return msg.append(dst, args)
}

// append appends the text with args filled into its placeholders.
func (msg message) append(dst []byte, args []any) []byte {
	for i, p := range msg.parts {
		if i%2 == 0 {
			dst = append(dst, p...)
		} else {
			dst = appendArg(dst, p, args)
		}
	}
	return dst
}

// appendArg appends the argument called name in args as text/template
// prints it; the last pair wins, as in the map go-i18n was given. A missing
// argument prints as text/template's "<no value>".
func appendArg(dst []byte, name string, args []any) []byte {
	for i := len(args) - len(args)%2 - 2; i >= 0; i -= 2 {
		if k, ok := args[i].(string); ok && k != name || !ok && format(args[i]) != name {
			continue
		}
		switch v := args[i+1].(type) {
		case string:
			return append(dst, v...)
		case int:
			return strconv.AppendInt(dst, int64(v), 10)
		case int64:
			return strconv.AppendInt(dst, v, 10)
		case nil:
			return append(dst, "<no value>"...)
		default:
			return append(dst, format(v)...)
		}
	}
	return append(dst, "<no value>"...)
}

// format prints v as fmt.Sprint (and so text/template) does. Because fmt
// keeps its arguments as far as the compiler can tell, the values passed
// to T escape: an int above 255 or a string costs the caller an
// allocation to box it.
func format(v any) string { return fmt.Sprint(v) }

// Has reports whether key exists in a catalog. Handlers use it to fall back
// to a generic message when a service returns a key nobody translated.
func (l Localizer) Has(key string) bool {
	_, ok := l.table()[key]
	return ok
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
	// The usual case (a setting, the cookie, a plain header tag) names a
	// language as it is written here: no parse.
	for _, lang := range Languages {
		if tag == lang {
			return lang
		}
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
