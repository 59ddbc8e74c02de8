package components

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	templruntime "github.com/a-h/templ/runtime"
)

// inboxRows renders the conversations of one inbox page, each exactly as
// InboxRow does (TestInboxRowsMatchInboxRow compares them on hostile
// input). It exists because rows are the part of a page that grows with the
// list: through templ, every row cost about 26 allocations (a closure
// and a context per component, fmt.Sprint and an interface per
// expression, a class builder, a string per id, URL and date), which made a
// page of rows cost hundreds of times the bytes it writes. Here each row is
// appended to one pooled scratch slice, constant markup as it is and
// every value HTML-escaped, and written with one call.
//
// A change to InboxRow's markup must be made here too; the test says so.
type inboxRows struct {
	m       Meta
	threads []InboxThread
	// focusFirst gives the first row's link autofocus (InboxMoreRows).
	focusFirst bool
	// more adds, after the rows, the "Meer berichten" item that loads the
	// page after the one of next (inboxMoreRef).
	more bool
	next InboxView
}

// inboxRowsAndMore are the conversations of v's page and, when there are
// older ones, the "Meer berichten" item that replaces itself with the next
// page.
func inboxRowsAndMore(m Meta, v InboxView, focusFirst bool) inboxRows {
	return inboxRows{m: m, threads: v.Threads, focusFirst: focusFirst, more: v.More, next: v}
}

func newInboxRows(m Meta, threads []InboxThread) inboxRows {
	return inboxRows{m: m, threads: threads}
}

// Render implements templ.Component.
func (r inboxRows) Render(ctx context.Context, w io.Writer) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	buf, existing := templruntime.GetBuffer(w)
	if !existing {
		defer func() {
			if releaseErr := templruntime.ReleaseBuffer(buf); err == nil {
				err = releaseErr
			}
		}()
	}
	if len(r.threads) == 0 && !r.more {
		return nil
	}
	scratch := rowScratch.Get().(*[]byte)
	defer rowScratch.Put(scratch)
	for i := range r.threads {
		*scratch = appendInboxRow((*scratch)[:0], &r.m, &r.threads[i], r.focusFirst && i == 0)
		if _, err := buf.Write(*scratch); err != nil {
			return err
		}
	}
	if r.more {
		*scratch = appendInboxMore((*scratch)[:0], &r.m, &r.next)
		if _, err := buf.Write(*scratch); err != nil {
			return err
		}
	}
	return nil
}

// appendInboxMore appends the "Meer berichten" item after v's page; see
// inboxMoreRef in elements_ref.templ for the markup. Its address starts
// with "/berichten", which templ.URL keeps as it is.
func appendInboxMore(b []byte, m *Meta, v *InboxView) []byte {
	b = append(b, `<li id="inbox-more" class="thread-list__more"><a class="button button--secondary" href="`...)
	start := len(b)
	b = escapeTail(v.appendPageURL(b, v.Page+1, v.Next), start)
	addr := b[start:]
	b = append(b, `" hx-get="`...)
	b = append(b, addr...)
	b = append(b, `" hx-target="#inbox-more" hx-swap="outerHTML">`...)
	start = len(b)
	b = escapeTail(m.L.AppendT(b, "inbox.more"), start)
	return append(b, `</a></li>`...)
}

// rowScratch holds the buffers rows (and the elements of elements.go that
// translate a text) are appended to, one per page being rendered; a row is
// about 450 bytes.
var rowScratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendInboxRow appends one row; see InboxRow in inbox.templ for the
// markup. With focus its link has autofocus.
func appendInboxRow(b []byte, m *Meta, t *InboxThread, focus bool) []byte {
	unread := t.Unread > 0
	b = append(b, `<li id="thread-`...)
	b = strconv.AppendInt(b, t.ID, 10)
	if unread {
		b = append(b, `" class="thread thread--unread"><p class="thread__top"><span class="thread__org">`...)
	} else {
		b = append(b, `" class="thread"><p class="thread__top"><span class="thread__org">`...)
	}
	b = appendEscaped(b, t.OrgName)
	b = append(b, `</span> <time class="thread__date" datetime="`...)
	start := len(b)
	b = escapeTail(appendISOTime(b, t.LastMessageAt), start)
	b = append(b, `">`...)
	start = len(b)
	b = escapeTail(m.L.AppendWhen(b, t.LastMessageAt, m.Now), start)
	b = append(b, `</time></p><a class="thread__link" href="`+threadURLPrefix...)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, `" hx-get="`+threadURLPrefix...)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, '"')
	if focus {
		b = append(b, ` autofocus`...)
	}
	if unread {
		b = append(b, `><strong class="thread__subject">`...)
		b = appendEscaped(b, t.Subject)
		b = append(b, `</strong>`...)
	} else {
		b = append(b, `><span class="thread__subject">`...)
		b = appendEscaped(b, t.Subject)
		b = append(b, `</span>`...)
	}
	b = append(b, `</a><p class="thread__bottom"><span class="thread__from">`...)
	b = appendEscaped(b, t.From)
	b = append(b, `</span> `...)
	if t.AssignedTo != "" {
		b = append(b, `<span class="thread__assigned">`...)
		start = len(b)
		b = escapeTail(m.L.AppendT(b, "team.assigned_to", "Name", t.AssignedTo), start)
		b = append(b, `</span> `...)
	}
	if unread {
		b = append(b, `<span class="badge"><span aria-hidden="true">`...)
		b = strconv.AppendInt(b, int64(t.Unread), 10)
		b = append(b, `</span><span class="visually-hidden">`...)
		start = len(b)
		b = escapeTail(m.L.AppendT(b, "inbox.unread_badge", "N", t.Unread), start)
		b = append(b, `</span></span>`...)
	}
	return append(b, `</p></li>`...)
}

// appendISOTime appends isoTime(t) (time.RFC3339 in UTC) without parsing
// the layout each time.
func appendISOTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	hour, minute, second := t.Clock()
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+second/10), byte('0'+second%10), 'Z')
}

// appendEscaped appends s HTML-escaped, as html.EscapeString (which templ
// uses) escapes it.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if esc := htmlEntity[s[i]]; esc != "" {
			b = append(b, s[last:i]...)
			b = append(b, esc...)
			last = i + 1
		}
	}
	return append(b, s[last:]...)
}

// escapeTail HTML-escapes b[start:], text just appended to b. Dates and
// catalog texts hardly ever need it, so the common case only looks.
func escapeTail(b []byte, start int) []byte {
	for _, c := range b[start:] {
		if htmlEntity[c] != "" {
			return appendEscaped(b[:start], string(b[start:]))
		}
	}
	return b
}
