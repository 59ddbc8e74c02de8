package components

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

// inboxBenchView is an inbox page with rows conversations, some unread,
// and a next page.
func inboxBenchView(rows int) (Meta, InboxView) {
	now := time.Date(2026, 2, 24, 15, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "csrf-token-value", SignedIn: true, UserName: "Jan van der Berg", Inbox: true, Unread: 7, Now: now}
	v := InboxView{Name: "Jan van der Berg", Page: 1, More: true, Unread: 7}
	for i := range rows {
		v.Threads = append(v.Threads, InboxThread{
			ID: int64(100 - i), Subject: "Verzuimbegeleiding week " + strconv.Itoa(i), OrgName: "OSAW",
			From: "Hanna de Vries, Bram Arts", LastMessageAt: now.Add(-time.Duration(i) * 7 * time.Hour), Unread: i % 3,
		})
	}
	return m, v
}

// BenchmarkInboxPage renders the inbox page ("templ") beside writing the
// same, pre-rendered bytes to the same kind of writer ("baseline"): with
// the 20 conversations a page shows, with 50, and with none (what the
// layout, header and search form cost alone). The templ case reports its
// time as a multiple of the baseline's (x-baseline); run both together:
//
//	go test -run '^$' -bench InboxPage -benchmem ./components/
func BenchmarkInboxPage(b *testing.B) {
	for _, rows := range []int{0, 20, 50} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			benchmarkInboxPage(b, rows)
		})
	}
}

func benchmarkInboxPage(b *testing.B, rows int) {
	m, v := inboxBenchView(rows)
	var pre bytes.Buffer
	if err := InboxPage(m, v).Render(context.Background(), &pre); err != nil {
		b.Fatal(err)
	}
	page := pre.Bytes()
	var baseline float64 // ns/op of the last baseline run
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			buf.Write(page)
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("templ", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := InboxPage(m, v).Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}

// BenchmarkInboxRows renders only the 20 rows of a page: as the page
// writes them ("rows", inboxRows), through the InboxRow template one by one
// as the page did before ("templ"), and the same bytes written at once
// ("baseline"). It shows what a row costs apart from the page around it.
func BenchmarkInboxRows(b *testing.B) {
	m, v := inboxBenchView(20)
	var pre bytes.Buffer
	if err := newInboxRows(m, v.Threads).Render(context.Background(), &pre); err != nil {
		b.Fatal(err)
	}
	page := pre.Bytes()
	var baseline float64
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			buf.Write(page)
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	for _, c := range []struct {
		name string
		c    templ.Component
	}{
		{"rows", newInboxRows(m, v.Threads)},
		{"templ", templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			for _, t := range v.Threads {
				if err := InboxRow(m, t).Render(ctx, w); err != nil {
					return err
				}
			}
			return nil
		})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			var buf bytes.Buffer
			ctx := templ.InitializeContext(context.Background())
			for b.Loop() {
				buf.Reset()
				if err := c.c.Render(ctx, &buf); err != nil {
					b.Fatal(err)
				}
			}
			if baseline > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
			}
		})
	}
}

// BenchmarkMessageBody renders a typical body with two links.
func BenchmarkMessageBody(b *testing.B) {
	body := "Beste Jan,\n\nIn de bijlage vind je het verslag. Meer uitleg op https://osaw.nl/verzuim en https://osaw.nl/re-integratie.\n\nMet vriendelijke groet,\nHanna"
	for b.Loop() {
		if err := MessageBody(body).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
