package components

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// hostileThreads are inbox rows with every kind of value a row writes:
// text that needs escaping, non-ASCII and control characters, empty
// fields, the zero time, today, this year, another year and a year
// time.RFC3339 writes oddly, no, one and many unread messages.
func hostileThreads(now time.Time) []InboxThread {
	texts := []string{"", "Verzuim", `<script>alert("x")</script>`, `a & b 'c' "d" <e>`, "ü 🙂 \x00 \t\n", "&amp;&#39;"}
	times := []time.Time{{}, now, now.Add(-2 * time.Hour), now.Add(-40 * 24 * time.Hour), now.AddDate(-3, 0, 0),
		time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC), now.Add(30 * time.Minute), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 999, time.FixedZone("x", -7*3600))}
	var out []InboxThread
	for i := range 42 {
		out = append(out, InboxThread{
			ID:            int64(i*i*977 - 3),
			Subject:       texts[i%len(texts)],
			OrgName:       texts[(i+1)%len(texts)],
			From:          texts[(i+2)%len(texts)],
			LastMessageAt: times[i%len(times)],
			Unread:        []int{0, 1, 7, 1234}[i%4],
		})
	}
	return out
}

// TestInboxRowsMatchInboxRow: the hand-written rows of an inbox page are
// byte for byte what the InboxRow template writes, in every language. When
// this fails after a change to InboxRow, make the same change in
// inbox_rows.go.
func TestInboxRowsMatchInboxRow(t *testing.T) {
	now := time.Date(2026, 2, 24, 23, 30, 0, 0, time.UTC) // already the 25th in Amsterdam
	threads := hostileThreads(now)
	for _, lang := range i18n.Languages {
		m := Meta{L: i18n.For(lang), CSRF: "x", Now: now}
		var want strings.Builder
		for _, th := range threads {
			want.WriteString(renderString(t, InboxRow(m, th)))
		}
		if got := renderString(t, newInboxRows(m, threads)); got != want.String() {
			t.Errorf("%s: rows differ from InboxRow\n got: %s\nwant: %s", lang, got, want.String())
		}
	}
	// The zero Meta (no language, no clock) as well.
	if got, want := renderString(t, newInboxRows(Meta{}, threads[:6])), renderString(t, InboxRow(Meta{}, threads[0]))+
		renderString(t, InboxRow(Meta{}, threads[1]))+renderString(t, InboxRow(Meta{}, threads[2]))+
		renderString(t, InboxRow(Meta{}, threads[3]))+renderString(t, InboxRow(Meta{}, threads[4]))+
		renderString(t, InboxRow(Meta{}, threads[5])); got != want {
		t.Errorf("zero Meta: rows differ from InboxRow\n got: %s\nwant: %s", got, want)
	}
}

// TestInboxRowsAllocations: a page of rows costs no allocation, however
// many rows it has, except one for each row with more than 255 unread
// messages (Go boxes such an int for i18n's arguments; smaller ones are
// preallocated).
func TestInboxRowsAllocations(t *testing.T) {
	now := time.Date(2026, 2, 24, 15, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), Now: now}
	threads := hostileThreads(now)
	var buf bytes.Buffer
	render := func() {
		buf.Reset()
		if err := newInboxRows(m, threads).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
	}
	render() // grow the buffer
	// bytes.Buffer is wrapped in templ's pooled buffer, as by any page.
	many := 0
	for _, th := range threads {
		if th.Unread > 255 {
			many++
		}
	}
	if n := testing.AllocsPerRun(50, render); n > float64(many) {
		t.Errorf("%d rows (%d with more than 255 unread): %v allocations, want at most %d", len(threads), many, n, many)
	}
}

// TestTextEscapesAsTempl: @text(s) writes what { s } writes, also into a
// writer without WriteString.
func TestTextEscapesAsTempl(t *testing.T) {
	for _, s := range []string{"", "plain", `<a href="x">'&'</a>`, "&&&", "ü\x00🙂>", `"`} {
		if got := renderString(t, text(s)); got != html.EscapeString(s) {
			t.Errorf("text(%q) = %q, want %q", s, got, html.EscapeString(s))
		}
		var w onlyWriter
		if err := text(s).Render(context.Background(), &w); err != nil || w.String() != html.EscapeString(s) {
			t.Errorf("text(%q) into an io.Writer = %q, %v", s, w.String(), err)
		}
	}
}

type onlyWriter struct{ b bytes.Buffer }

func (w *onlyWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
func (w *onlyWriter) String() string              { return w.b.String() }

// FuzzWriteEscaped compares the escaper of text and inboxRows with
// html.EscapeString, which templ uses.
func FuzzWriteEscaped(f *testing.F) {
	for _, s := range []string{"", "a<b>&'\"", "\xff\x00", "🙂&🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		if err := writeEscaped(&b, s); err != nil {
			t.Fatal(err)
		}
		if b.String() != html.EscapeString(s) {
			t.Errorf("writeEscaped(%q) = %q, want %q", s, b.String(), html.EscapeString(s))
		}
	})
}

// TestCSRFHeaders: the JSON for hx-headers is encoding/json's for every
// token, the plain ones written directly.
func TestCSRFHeaders(t *testing.T) {
	for _, token := range []string{"", "abcDEF012-_", "a+b/c=.~", `"}<script>`, "a&b", "ü", "\u2028"} {
		want, err := json.Marshal(map[string]string{"X-Csrf-Token": token})
		if err != nil {
			t.Fatal(err)
		}
		if got := csrfHeaders(token); got != string(want) {
			t.Errorf("csrfHeaders(%q) = %s, want %s", token, got, want)
		}
	}
}

// TestPageURL: page addresses are what url.Values encodes.
func TestPageURL(t *testing.T) {
	for _, q := range []string{"", "verzuim", "a b&c=d/é?#"} {
		for _, page := range []int{0, 1, 2, 13} {
			vals := url.Values{}
			if page > 1 {
				vals.Set("pagina", strconv.Itoa(page))
			}
			if q != "" {
				vals.Set("zoek", q)
			}
			want := "/berichten"
			if len(vals) > 0 {
				want += "?" + vals.Encode()
			}
			if got := (InboxView{Query: q}).PageURL(page); got != want {
				t.Errorf("PageURL(%d) with %q = %q, want %q", page, q, got, want)
			}
		}
	}
}
