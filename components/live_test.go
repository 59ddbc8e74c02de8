package components

import (
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// TestLiveTargetsOnPages keeps the pushed fragments and the pages in step:
// every element a push targets exists on the page it is meant for, the
// live inbox list only on the first page without a search, and the signed-in
// layout opens the live connection.
func TestLiveTargetsOnPages(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true, Unread: 1, Now: now}
	row := InboxThread{ID: 7, Subject: "Verzuim", OrgName: "OSAW", From: "Hanna de Vries", LastMessageAt: now, Unread: 1}
	msg := MessageItem{ID: 9, ThreadID: 7, SenderName: "Hanna de Vries", SenderOrg: "OSAW", Body: "Hoi", CreatedAt: now, Unread: true}

	inbox := renderString(t, InboxPage(m, InboxView{Name: "Jan", Page: 1, Threads: []InboxThread{row}, Unread: 1}))
	thread := renderString(t, ThreadPage(m, ThreadView{ID: 7, Subject: "Verzuim", Messages: []MessageItem{msg}, Unread: true}))
	empty := renderString(t, InboxPartial(m, InboxView{Name: "Jan", Page: 1}))
	search := renderString(t, InboxPartial(m, InboxView{Name: "Jan", Page: 1, Query: "x", Threads: []InboxThread{row}}))
	page2 := renderString(t, InboxPartial(m, InboxView{Name: "Jan", Page: 2, Threads: []InboxThread{row}}))
	anon := renderString(t, LoginPage(Meta{L: i18n.For("nl"), CSRF: "tok"}, LoginView{}))

	wantContains := func(name, page string, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(page, p) {
				t.Errorf("%s lacks %q", name, p)
			}
		}
	}
	wantContains("inbox", inbox, `ws-connect="/ws"`, `hx-ext="ws,live"`, `<ul id="thread-list" class="thread-list" aria-label="Gesprekken" data-live>`,
		`<li id="thread-7"`, `id="inbox-link"`, `id="inbox-unread"`, `id="live-status"`, `aria-live="polite"`)
	wantContains("thread", thread, `<ol id="messages-7" class="messages">`, `<li id="message-9"`, `<p id="typing-7" class="typing"></p>`,
		`<div id="read-7" hx-post="/berichten/7/gelezen" hx-trigger="load" hx-swap="none" hx-vals="{&#34;tot&#34;:&#34;9&#34;}" hidden></div>`, `id="live-status"`,
		`data-text-message-deleted="Bericht verwijderd"`)
	// What app.js announces when a push deletes the message with the focus,
	// in the reader's language.
	en := m
	en.L = i18n.For("en")
	wantContains("English thread", renderString(t, ThreadPage(en, ThreadView{ID: 7, Subject: "Verzuim", Messages: []MessageItem{msg}})),
		`data-text-message-deleted="Message deleted"`)
	wantContains("empty inbox", empty, `<p id="inbox-empty" class="empty-state">`, `data-live></ul>`,
		`<p id="inbox-unread" class="inbox-unread" hidden></p>`)
	for name, page := range map[string]string{"search": search, "page 2": page2} {
		if strings.Contains(page, "data-live") {
			t.Errorf("%s: a live list; new conversations would land in it", name)
		}
	}
	if strings.Contains(anon, "ws-connect") {
		t.Error("a signed-out page opens the live connection")
	}

	live := renderString(t, LiveNewMessage(m, LiveMessage{Thread: row, Message: &msg, Announce: "Nieuw bericht van OSAW: Verzuim"}))
	wantContains("push", live, `hx-swap-oob="afterbegin:#thread-list[data-live]"`, `hx-swap-oob="beforeend:#messages-7"`,
		`<div id="read-7" hx-post="/berichten/7/gelezen" hx-trigger="load" hx-swap="none" hx-vals="{&#34;tot&#34;:&#34;9&#34;}"`, `<p>Nieuw bericht van OSAW: Verzuim</p>`)
	typing := renderString(t, LiveTyping(7, "Hanna de Vries is aan het typen…"))
	wantContains("typing", typing, `<p id="typing-7" class="typing" hx-swap-oob="true">`)

	// The reply field reports typing for its conversation; a new message
	// (no conversation yet) does not.
	reply := renderString(t, ReplyFormFragment(m, 7, ReplyForm{}))
	compose := renderString(t, ComposePartial(m, ComposeView{}))
	wantContains("reply", reply, `data-typing="7"`)
	if strings.Contains(compose, "data-typing") {
		t.Error("the compose form reports typing")
	}
}
