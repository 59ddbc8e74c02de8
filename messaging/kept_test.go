package messaging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestKeptTexts: a form typed while the session lapsed is kept sealed, for
// its writer in their browser only, one per form (a second replaces the
// first), at most MaxKeptTexts per person, for KeptFor; a reply to a
// conversation the writer cannot read is neither kept nor shown, and what
// is kept goes with a sending of it, the cleanup and the account.
func TestKeptTexts(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		const secret = "Mijn rug doet nog steeds pijn"
		tok, err := f.svc.KeepText(ctx, jan.ID, "", messaging.KeptInput{ThreadID: tid, Body: secret, Subject: "ignored for a reply"})
		if err != nil {
			t.Fatal(err)
		}
		if !auth.ValidToken(tok) {
			t.Fatalf("token %q", tok)
		}
		got, err := f.svc.KeptText(ctx, jan.Identity(), tok, tid)
		if err != nil || got == nil || got.Body != secret || got.Subject != "" {
			t.Fatalf("kept reply: %+v, %v", got, err)
		}
		// Sealed at rest.
		var sealed [][]byte
		if err := d.NewSelect().Model((*db.KeptText)(nil)).Column("sealed").Scan(ctx, &sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) != 1 || bytes.Contains(sealed[0], []byte("rug")) {
			t.Fatalf("stored: %q", sealed)
		}
		// Not for another browser, nor for another person with this one.
		other, _ := f.svc.KeepText(ctx, f.boss.ID, "", messaging.KeptInput{Body: "x", To: "y"})
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), other, tid); got != nil {
			t.Fatal("kept text shown in another browser")
		}
		if got, _ := f.svc.KeptText(ctx, f.hr.Identity(), tok, tid); got != nil {
			t.Fatal("kept text shown to another person")
		}
		// A second keep of the form replaces the first, the browser's token
		// stays; a new message is kept beside it.
		if tok2, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: tid, Body: "Tweede versie"}); err != nil || tok2 != tok {
			t.Fatalf("second keep: %q, %v", tok2, err)
		}
		if _, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{To: "hr@osaw.nl", Subject: "Vraag", Body: "Nieuw", WithFiles: true}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "kept_texts", "user_id = ?", jan.ID); n != 2 {
			t.Fatalf("%d kept texts, want 2", n)
		}
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), tok, tid); got == nil || got.Body != "Tweede versie" {
			t.Fatalf("replaced reply: %+v", got)
		}
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), tok, 0); got == nil || got.To != "hr@osaw.nl" || got.Subject != "Vraag" || !got.WithFiles {
			t.Fatalf("new message: %+v", got)
		}
		// A new message's choices of who may read it come back with it
		// (TestKeptNewMessageKeepsItsChoices); a reply has none.
		hrTok, err := f.svc.KeepText(ctx, f.hr.ID, "", messaging.KeptInput{To: "jan@example.nl", Body: "Uitslag", Medical: true, TeamID: 7})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.KeepText(ctx, f.hr.ID, hrTok, messaging.KeptInput{ThreadID: tid, Body: "Antwoord", Medical: true, TeamID: 7}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.KeptText(ctx, f.hr.Identity(), hrTok, 0); got == nil || !got.Medical || got.TeamID != 7 {
			t.Fatalf("new message's choices: %+v", got)
		}
		if got, _ := f.svc.KeptText(ctx, f.hr.Identity(), hrTok, tid); got == nil || got.Medical || got.TeamID != 0 {
			t.Fatalf("reply with a new message's choices: %+v", got)
		}
		if _, err := d.NewDelete().Model((*db.KeptText)(nil)).Where("user_id = ?", f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// The newest is where the login goes.
		if id, ok, err := f.svc.KeptForm(ctx, jan.Identity(), tok); err != nil || !ok || id != 0 {
			t.Fatalf("kept form: %d %v %v", id, ok, err)
		}

		// Too large, empty, or to a conversation Jan is not in: not kept.
		_, err = f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: tid, Body: strings.Repeat("a", messaging.MaxBody+1)})
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("kept: %v", err)
		}
		_, err = f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{Body: "  "})
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("kept: %v", err)
		}
		theirs, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.boss.Email}, Subject: "Intern", Body: "Alleen wij"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: theirs, Body: "Binnendringen"})
		wantNotFound(t, "a reply kept to another conversation", err)
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), tok, tid); got == nil || got.Body != "Tweede versie" {
			t.Fatal("a refused keep changed the kept reply")
		}

		// Sending the reply with its Within deletes it; a refused send
		// leaves it.
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: " ", Within: messaging.SentKept(jan.Identity(), tok, tid, nil)}); err == nil {
			t.Fatal("empty reply sent")
		}
		if n := f.count(t, "kept_texts", "user_id = ? AND thread_id = ?", jan.ID, tid); n != 1 {
			t.Fatal("a refused reply deleted the kept text")
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Tweede versie", Within: messaging.SentKept(jan.Identity(), tok, tid, nil)}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "kept_texts", "user_id = ? AND thread_id = ?", jan.ID, tid); n != 0 {
			t.Fatal("the sent reply is still kept")
		}
		more, err := f.svc.DiscardKept(ctx, jan.Identity(), tok, 0)
		if err != nil || more {
			t.Fatalf("discard: more %v, %v", more, err)
		}

		// A conversation Jan can no longer read: the kept reply is not
		// shown, and goes.
		if _, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: tid, Body: "Weer"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewDelete().Table("participants").Where("thread_id = ? AND user_id = ?", tid, jan.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := f.svc.KeptForm(ctx, jan.Identity(), tok); ok {
			t.Fatal("login goes to a conversation Jan left")
		}
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), tok, tid); got != nil {
			t.Fatal("kept reply shown after Jan left")
		}
		if n := f.count(t, "kept_texts", "user_id = ?", jan.ID); n != 0 {
			t.Fatalf("%d kept texts left after Jan left", n)
		}

		// At most MaxKeptTexts: the oldest go.
		var threads []int64
		for i := range messaging.MaxKeptTexts + 2 {
			id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Nog een", Body: "Hoi"})
			if err != nil {
				t.Fatal(err)
			}
			threads = append(threads, id)
			f.clk.Add(time.Second)
			if _, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: id, Body: "Antwoord " + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count(t, "kept_texts", "user_id = ?", jan.ID); n != messaging.MaxKeptTexts {
			t.Fatalf("%d kept texts, want %d", n, messaging.MaxKeptTexts)
		}
		if n := f.count(t, "kept_texts", "thread_id IN (?, ?)", threads[0], threads[1]); n != 0 {
			t.Fatal("the oldest kept texts stayed")
		}

		// Expired: not shown, and the cleanup deletes them.
		f.clk.Add(messaging.KeptFor + time.Minute)
		if got, _ := f.svc.KeptText(ctx, jan.Identity(), tok, threads[5]); got != nil {
			t.Fatal("expired kept text shown")
		}
		n, err := messaging.PurgeKeptTexts(ctx, d, f.clk.Now())
		if err != nil || n != messaging.MaxKeptTexts+1 { // Jan's and Bram's
			t.Fatalf("purged %d, %v", n, err)
		}

		// A conversation deleted (for everyone, by retention) takes its
		// kept replies along.
		if _, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: threads[6], Body: "Weg"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewDelete().Table("threads").Where("id = ?", threads[6]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "kept_texts", "user_id = ?", jan.ID); n != 0 {
			t.Fatalf("%d kept texts after their conversation went", n)
		}

		// Stopping removes them with the account.
		if _, err := f.svc.KeepText(ctx, jan.ID, tok, messaging.KeptInput{ThreadID: threads[5], Body: "Laatste"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "kept_texts", "1 = 1"); n != 0 {
			t.Fatalf("%d kept texts after the stop", n)
		}
	})
}

// TestExportHoldsKeptTexts, on both engines: "Berichten downloaden" holds
// everything of the person's, so also what they typed and Dialoog kept for
// them after their session lapsed: each kept form that has not expired,
// opened, in bewaarde-teksten.json, whichever browser it was kept in; not
// an expired one, nor another person's.
func TestExportHoldsKeptTexts(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.KeepText(ctx, jan.ID, "", messaging.KeptInput{ThreadID: tid, Body: "Mijn rug doet nog pijn"}); err != nil {
			t.Fatal(err)
		}
		// A new message, in another browser.
		if _, err := f.svc.KeepText(ctx, jan.ID, "", messaging.KeptInput{To: "hr@osaw.nl", Subject: "Vraag", Body: "Mag ik later beginnen?", WithFiles: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.KeepText(ctx, f.hr.ID, "", messaging.KeptInput{ThreadID: tid, Body: "Van de casemanager"}); err != nil {
			t.Fatal(err)
		}
		// The export of someone who kept nothing has the file, with no texts.
		data, err := exportWith(ctx, f.svc, f.boss, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := unzip(t, data)["bewaarde-teksten.json"]; !strings.Contains(got, `"texts": []`) {
			t.Errorf("bewaarde-teksten.json of someone who kept nothing:\n%s", got)
		}
		data, err = exportWith(ctx, f.svc, jan, "")
		if err != nil {
			t.Fatal(err)
		}
		files := unzip(t, data)
		var out struct {
			Texts []struct {
				Conversation *int64 `json:"conversation"`
				To, Subject  string
				Body         string
				WithFiles    bool       `json:"with_files"`
				KeptAt       *time.Time `json:"kept_at"`
				ExpiresAt    *time.Time `json:"expires_at"`
			}
		}
		if err := json.Unmarshal([]byte(files["bewaarde-teksten.json"]), &out); err != nil {
			t.Fatalf("bewaarde-teksten.json: %v (files %v)", err, keys(files))
		}
		if len(out.Texts) != 2 {
			t.Fatalf("kept texts in the export: %+v", out.Texts)
		}
		reply, msg := out.Texts[0], out.Texts[1]
		if reply.Conversation == nil || *reply.Conversation != tid || reply.Body != "Mijn rug doet nog pijn" || reply.WithFiles {
			t.Errorf("kept reply: %+v", reply)
		}
		if msg.Conversation != nil || msg.To != "hr@osaw.nl" || msg.Subject != "Vraag" || msg.Body != "Mag ik later beginnen?" || !msg.WithFiles {
			t.Errorf("kept new message: %+v", msg)
		}
		if reply.KeptAt == nil || reply.ExpiresAt == nil || !reply.ExpiresAt.Equal(reply.KeptAt.Add(messaging.KeptFor)) {
			t.Errorf("kept reply's times: %v, %v", reply.KeptAt, reply.ExpiresAt)
		}
		if strings.Contains(files["bewaarde-teksten.json"], "casemanager") {
			t.Error("another person's kept text in the export")
		}
		if !strings.Contains(files["LEESMIJ.txt"], "bewaarde-teksten.json") {
			t.Errorf("LEESMIJ.txt does not name the file:\n%s", files["LEESMIJ.txt"])
		}
		// An expired one is not there.
		if _, err := d.NewUpdate().Model((*db.KeptText)(nil)).Set("expires_at = ?", f.svc.Now().UTC().Add(-time.Minute)).
			Where("user_id = ? AND thread_id IS NULL", jan.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		data, err = exportWith(ctx, f.svc, jan, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := unzip(t, data)["bewaarde-teksten.json"]; strings.Contains(got, "later beginnen") || !strings.Contains(got, "rug") {
			t.Errorf("after expiry:\n%s", got)
		}
	})
}
