package components

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

// TestElementsMatchTempl: the elements that elements.go and inbox_rows.go
// write by hand are byte for byte what their templ markup in
// elements_ref.templ writes (the title: what the layout wrote before), on hostile values, in every language and
// with the zero Meta, also into a writer without WriteString. When this
// fails after a change to a template in elements_ref.templ, make the same
// change in the Go code (or the other way round).
func TestElementsMatchTempl(t *testing.T) {
	hostile := []string{"", "csrf-token-value", `a"b'c<d>e&f&amp;g`, "ü 🙂 \x00\t\n</script>", "/berichten?zoek=a b&c=d#x"}
	now := time.Date(2026, 2, 24, 23, 30, 0, 0, time.UTC)
	var metas []Meta
	for _, lang := range i18n.Languages {
		for i, s := range hostile {
			metas = append(metas, Meta{L: i18n.For(lang), CSRF: s, Back: hostile[(i+1)%len(hostile)],
				Unread: []int{-1, 0, 1, 7, 300}[i], Now: now})
		}
	}
	metas = append(metas, Meta{})
	type pair struct {
		name      string
		got, want templ.Component
	}
	for _, m := range metas {
		pairs := []pair{
			{"csrfField", csrfField(m), csrfFieldRef(m)},
			{"csrfMeta", csrfMeta(m), csrfMetaRef(m)},
			{"manifestLink", manifestLink(m), manifestLinkRef(m)},
			{"brandLink", brandLink(m), joined(brandLinkRef(m), text(" "))},
			{"languageSwitch", languageSwitch(m), languageSwitchRef(m)},
		}
		for _, oob := range []bool{false, true} {
			pairs = append(pairs, pair{fmt.Sprintf("inboxLink(oob=%v)", oob), inboxLink(m, oob), inboxLinkRef(m, oob)})
			for _, n := range []int{-1, 0, 1, 2, 300} {
				pairs = append(pairs, pair{fmt.Sprintf("InboxUnread(%d, oob=%v)", n, oob), InboxUnread(m, n, oob), inboxUnreadRef(m, n, oob)})
			}
		}
		for _, title := range append(hostile, "Dialoog", "Berichten") {
			pairs = append(pairs, pair{fmt.Sprintf("pageTitle(%q)", title), pageTitle(title), text(pageTitleString(title))})
		}
		threads := hostileThreads(now)[:5]
		for i, v := range []InboxView{
			{},
			{Threads: threads, Page: 1, More: true},
			{Threads: threads[:1], Page: 3, More: true, Next: hostile[2], Query: hostile[3], TeamID: 12},
			{Page: 2, More: true, Next: "2026-02-24T10:00:00Z/17", Case: &CaseItem{ID: 42}},
			{Threads: threads, More: false},
		} {
			for _, focus := range []bool{false, true} {
				// The rows are inboxRows's, compared with InboxRow by
				// TestInboxRowsMatchInboxRow; here the item after them.
				want := joined(inboxRows{m: m, threads: v.Threads, focusFirst: focus}, inboxMoreRef(m, v))
				pairs = append(pairs, pair{fmt.Sprintf("inboxRowsAndMore(view %d, focus=%v)", i, focus), inboxRowsAndMore(m, v, focus), want})
			}
		}
		for _, p := range pairs {
			want := renderString(t, p.want)
			if got := renderString(t, p.got); got != want {
				t.Errorf("%s, %s, CSRF %q: differs from the templ markup\n got: %s\nwant: %s", m.Lang(), p.name, m.CSRF, got, want)
			}
			var w onlyWriter
			if err := p.got.Render(context.Background(), &w); err != nil || w.String() != want {
				t.Errorf("%s, %s, CSRF %q into an io.Writer: %q, %v\nwant: %q", m.Lang(), p.name, m.CSRF, w.String(), err, want)
			}
		}
	}
}

// pageTitleString is what the layout wrote as @text(pageTitle(title))
// before pageTitle was a component.
func pageTitleString(title string) string {
	if title == "" || title == "Dialoog" {
		return "Dialoog"
	}
	return title + " – Dialoog"
}

// joined renders cs one after another.
func joined(cs ...templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, c := range cs {
			if err := c.Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestInboxPageAllocations: the inbox page costs at most inboxPageAllocs
// allocations, whatever the number of rows. Allocation counts are
// deterministic for the same input (a garbage collection emptying a
// sync.Pool during the run can add a few, hence the margin); when a change
// makes the page cost more, look at
//
//	go test -run '^$' -bench 'InboxPage/rows=0/templ' -benchmem -memprofile mem.out -memprofilerate 1 ./components/
//	go tool pprof -sample_index=alloc_objects -top components.test mem.out
//
// before raising the limit. The page cost 69 before the elements of
// elements.go; it now costs 29.
func TestInboxPageAllocations(t *testing.T) {
	const inboxPageAllocs = 29 + 3
	for _, rows := range []int{0, 20, 50} {
		m, v := inboxBenchView(rows)
		var buf bytes.Buffer
		render := func() {
			buf.Reset()
			if err := InboxPage(m, v).Render(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
		}
		render() // grow the buffer
		if n := testing.AllocsPerRun(100, render); n > inboxPageAllocs {
			t.Errorf("inbox page with %d rows: %v allocations, want at most %d", rows, n, inboxPageAllocs)
		}
	}
}
