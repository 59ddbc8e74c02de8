package components

import (
	"context"
	"io"
	"strconv"
	"time"

	templruntime "github.com/a-h/templ/runtime"
)

// inboxRows renders the conversations of one inbox page, each exactly as
// InboxRow does (TestInboxRowsMatchInboxRow compares them on hostile
// input). It exists because rows are the part of a page that grows with the
// list: through templ, every row cost about thirty allocations (a closure
// per component, fmt.Sprint and an interface per expression, a class
// builder, a string per id, URL and date), which made a page of rows cost
// hundreds of times the bytes it writes. Here a row writes constant markup
// and escaped values straight into the buffer, formatting numbers and dates
// into one scratch slice for the whole page.
//
// A change to InboxRow's markup must be made here too; the test says so.
type inboxRows struct {
	m       Meta
	threads []InboxThread
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
	h := htmlWriter{w: buf, scratch: make([]byte, 0, 64)}
	for i := range r.threads {
		h.inboxRow(&r.m, &r.threads[i])
	}
	return h.err
}

// inboxRow writes one row; see InboxRow in inbox.templ for the markup.
func (h *htmlWriter) inboxRow(m *Meta, t *InboxThread) {
	h.raw(`<li id="thread-`)
	h.int(t.ID)
	if t.Unread > 0 {
		h.raw(`" class="thread thread--unread"><p class="thread__top"><span class="thread__org">`)
	} else {
		h.raw(`" class="thread"><p class="thread__top"><span class="thread__org">`)
	}
	h.text(t.OrgName)
	h.raw(`</span> <time class="thread__date" datetime="`)
	h.scratch = t.LastMessageAt.UTC().AppendFormat(h.scratch[:0], time.RFC3339)
	h.textBytes(h.scratch)
	h.raw(`">`)
	h.scratch = m.L.AppendWhen(h.scratch[:0], t.LastMessageAt, m.Now)
	h.textBytes(h.scratch)
	h.raw(`</time></p><a class="thread__link" href="` + threadURLPrefix)
	h.int(t.ID)
	h.raw(`" hx-get="` + threadURLPrefix)
	h.int(t.ID)
	if t.Unread > 0 {
		h.raw(`"><strong class="thread__subject">`)
		h.text(t.Subject)
		h.raw(`</strong>`)
	} else {
		h.raw(`"><span class="thread__subject">`)
		h.text(t.Subject)
		h.raw(`</span>`)
	}
	h.raw(`</a><p class="thread__bottom"><span class="thread__from">`)
	h.text(t.From)
	h.raw(`</span> `)
	if t.Unread > 0 {
		h.raw(`<span class="badge"><span aria-hidden="true">`)
		h.int(int64(t.Unread))
		h.raw(`</span><span class="visually-hidden">`)
		h.scratch = m.L.AppendT(h.scratch[:0], "inbox.unread_badge", "N", t.Unread)
		h.textBytes(h.scratch)
		h.raw(`</span></span>`)
	}
	h.raw(`</p></li>`)
}

// htmlWriter writes markup for hand-written components: raw for constant
// markup only, text and textBytes for every value, HTML-escaped exactly as
// templ escapes text and attribute values (html.EscapeString). The first
// write error stops all later writes and is kept in err.
type htmlWriter struct {
	w *templruntime.Buffer
	// scratch is reused to format numbers, dates and texts.
	scratch []byte
	err     error
}

// raw writes s unescaped; s must be constant markup, never a value.
func (h *htmlWriter) raw(s string) {
	if h.err == nil {
		_, h.err = h.w.WriteString(s)
	}
}

// int writes a decimal number (nothing to escape).
func (h *htmlWriter) int(n int64) {
	h.scratch = strconv.AppendInt(h.scratch[:0], n, 10)
	if h.err == nil {
		_, h.err = h.w.Write(h.scratch)
	}
}

// text writes s HTML-escaped.
func (h *htmlWriter) text(s string) {
	if h.err == nil {
		h.err = writeEscaped(h.w, s)
	}
}

// textBytes writes b HTML-escaped.
func (h *htmlWriter) textBytes(b []byte) {
	last := 0
	for i, c := range b {
		if esc := htmlEntity[c]; esc != "" {
			h.bytes(b[last:i])
			h.raw(esc)
			last = i + 1
		}
	}
	h.bytes(b[last:])
}

func (h *htmlWriter) bytes(b []byte) {
	if h.err == nil && len(b) > 0 {
		_, h.err = h.w.Write(b)
	}
}
