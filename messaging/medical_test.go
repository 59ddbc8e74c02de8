package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// medicalOpens counts the audit rows of internal opens of a conversation.
func medicalOpens(t *testing.T, d *db.DB, userID, threadID int64) int {
	t.Helper()
	n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).
		Where("kind = ? AND user_id = ? AND detail = ?", "medical.opened", userID, fmt.Sprintf("thread %d", threadID)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// zipHolds reports whether any file of an export contains s.
func zipHolds(t *testing.T, data []byte, s string) bool {
	t.Helper()
	for name, body := range unzip(t, data) {
		if strings.Contains(name, s) || strings.Contains(body, s) {
			return true
		}
	}
	return false
}

// Starting a medical conversation: only a member of a medical team, only
// with internal participants who are members too, and from a team only when
// it is a medical team; adding a non-medical colleague later is refused.
func TestMedicalStartRules(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		arts := f.active(t, "anna@osaw.nl", true, "Anna", "", "Arts")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		med, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, med.ID, arts.Email); err != nil {
			t.Fatal(err)
		}
		verzuim := newTeam(t, f, "OSAW Verzuim", true, arts, f.hr)

		in := messaging.ComposeInput{To: []string{jan.Email}, Subject: "Diagnose", Body: "Uitslag", Medical: true}
		_, err = f.svc.Compose(ctx, f.hr.Identity(), in)
		wantKey(t, err, "medical.sender_not_medical")
		_, err = f.svc.Compose(ctx, jan.Identity(), messaging.ComposeInput{To: []string{arts.Email}, Subject: "X", Body: "Y", Medical: true})
		wantKey(t, err, "medical.internal_only")
		withHR := in
		withHR.To = []string{jan.Email, f.hr.Email}
		_, err = f.svc.Compose(ctx, arts.Identity(), withHR)
		wantKey(t, err, "medical.participant_not_medical")
		fromTeam := in
		fromTeam.TeamID = verzuim.ID
		_, err = f.svc.Compose(ctx, arts.Identity(), fromTeam)
		wantKey(t, err, "medical.team_not_medical")
		var n int64
		if n, err = d.NewSelect().Model((*db.Thread)(nil)).Count(ctx); err != nil || n != 0 {
			t.Fatalf("a refused start stored %d threads (%v)", n, err)
		}

		tid, err := f.svc.Compose(ctx, arts.Identity(), in)
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.AddParticipant(ctx, arts.Identity(), tid, messaging.AddInput{Email: f.hr.Email, History: messaging.WithHistory})
		wantKey(t, err, "medical.participant_not_medical")
		// From the medical team: every member takes part.
		medFrom := in
		medFrom.TeamID = med.ID
		if _, err := f.svc.Compose(ctx, arts.Identity(), medFrom); err != nil {
			t.Fatal(err)
		}
		// Not medical: anyone, as before.
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, arts.Email}, Subject: "Gewoon", Body: "Hallo"}); err != nil {
			t.Fatal(err)
		}
	})
}

// A medical conversation is invisible to an internal participant who is
// not (or no longer) in a medical team, on every read path, and readable by
// the medical team and the external participant; every internal open is
// audited, live pushes are not.
func TestMedicalReadPaths(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		arts := f.active(t, "anna@osaw.nl", true, "Anna", "", "Arts")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		med, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{arts, piet} {
			if err := f.svc.AddTeamMember(ctx, med.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		att, err := f.svc.Upload(ctx, arts.Identity(), "uitslag.pdf", []byte("%PDF-1.4 uitslag"))
		if err != nil {
			t.Fatal(err)
		}
		// Started personally, with Piet (then a medical colleague) in it.
		tid, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{jan.Email, piet.Email}, Subject: "Diagnose rugklachten",
			Body: "Vertrouwelijke uitslag", AttachmentIDs: []int64{att.ID}, Medical: true})
		if err != nil {
			t.Fatal(err)
		}
		msgID, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Dank, dokter"})
		if err != nil {
			t.Fatal(err)
		}
		// An ordinary conversation with Piet, to see that the rule hides
		// only the medical one.
		plain, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{piet.Email}, Subject: "Rooster", Body: "Maandag"})
		if err != nil {
			t.Fatal(err)
		}

		readable := func(t *testing.T, u *db.User, want bool) {
			t.Helper()
			v, err := f.svc.Thread(ctx, u.Identity(), tid)
			if want != (err == nil) || (!want && apperr.CodeOf(err) != apperr.NotFound) {
				t.Errorf("%s opens the page: %v, want readable %v", u.Email, err, want)
			}
			if want && v != nil && (v.Subject != "Diagnose rugklachten" || !v.Medical || len(v.Messages) != 2) {
				t.Errorf("%s sees %+v", u.Email, v)
			}
			for _, q := range []string{"", "rugklachten", "Di", "Jansen"} {
				p, err := f.svc.Inbox(ctx, u.Identity(), 1, q)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, th := range p.Threads {
					found = found || th.ID == tid || strings.Contains(th.Subject, "Diagnose")
				}
				if found != want && !(q == "Jansen" && u.ID == jan.ID) {
					t.Errorf("%s inbox %q lists it: %v, want %v", u.Email, q, found, want)
				}
			}
			// A non-member's team box is NotFound (TestTeamBoxOnlyForMembers).
			if box, err := f.svc.TeamBox(ctx, u.Identity(), med.ID, 1); apperr.CodeOf(err) != apperr.NotFound && (err != nil || len(box.Threads) != 0) {
				t.Errorf("personal conversation in a team box: %+v %v", box, err)
			}
			data, err := export(ctx, f.svc, u)
			if err != nil {
				t.Fatal(err)
			}
			if got := zipHolds(t, data, "Vertrouwelijke uitslag") || zipHolds(t, data, "rugklachten"); got != want {
				t.Errorf("%s export holds it: %v, want %v", u.Email, got, want)
			}
			if got, err := download(ctx, f.svc, u, att.ID); want != (err == nil) || (want && string(got) != "%PDF-1.4 uitslag") ||
				(!want && apperr.CodeOf(err) != apperr.NotFound) {
				t.Errorf("%s downloads the attachment: %q %v, want %v", u.Email, got, err, want)
			}
			readers, err := f.svc.LiveUpdate(ctx, tid, msgID, []int64{u.ID})
			if err != nil || (len(readers) == 1) != want {
				t.Errorf("%s live update: %+v %v, want %v", u.Email, readers, err, want)
			}
			if ok, err := f.svc.MayRead(ctx, u.Identity(), tid); err != nil || ok != want {
				t.Errorf("%s MayRead %v %v", u.Email, ok, err)
			}
		}
		t.Run("medical team member", func(t *testing.T) { readable(t, piet, true) })
		t.Run("author", func(t *testing.T) { readable(t, arts, true) })
		t.Run("external participant", func(t *testing.T) { readable(t, jan, true) })
		// Every open by an internal user is on record; the external
		// person's and the live pushes are not.
		if n := medicalOpens(t, d, piet.ID, tid); n != 1 {
			t.Fatalf("piet's opens audited %d times, want 1", n)
		}
		if n := medicalOpens(t, d, arts.ID, tid); n != 1 {
			t.Fatalf("arts's opens audited %d times, want 1", n)
		}
		if n, _ := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND user_id = ?", "medical.opened", jan.ID).Count(ctx); n != 0 {
			t.Fatalf("jan's opens audited %d times", n)
		}
		if _, err := f.svc.Thread(ctx, arts.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Thread(ctx, arts.Identity(), plain); err != nil {
			t.Fatal(err)
		}
		if n := medicalOpens(t, d, arts.ID, tid); n != 2 {
			t.Fatalf("arts's second open: %d audit rows, want 2", n)
		}
		if n := medicalOpens(t, d, arts.ID, plain); n != 0 {
			t.Fatalf("an ordinary conversation's open audited %d times", n)
		}

		// Piet leaves the medical team: he still takes part, but may read
		// nothing of it any more, not even the subject.
		if err := f.svc.RemoveTeamMember(ctx, med.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		t.Run("former medical member", func(t *testing.T) { readable(t, piet, false) })
		// And the colleague who never was one (a participant row written
		// around the rules, as an old or imported row would be).
		if _, err := d.NewInsert().Model(&db.Participant{ThreadID: tid, UserID: f.hr.ID, AddedAt: f.clk.Now()}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewRaw("INSERT INTO message_states (message_id, user_id) SELECT m.id, ? FROM messages AS m WHERE m.thread_id = ?", f.hr.ID, tid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewRaw("UPDATE participants SET box_count = 2, last_activity_at = ? WHERE thread_id = ? AND user_id = ?", f.clk.Now(), tid, f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		t.Run("non-medical participant", func(t *testing.T) { readable(t, f.hr, false) })
		if n := medicalOpens(t, d, piet.ID, tid); n != 1 {
			t.Fatalf("a refused open was audited: %d rows", n)
		}
		// The ordinary conversation is still Piet's.
		if _, err := f.svc.Thread(ctx, piet.Identity(), plain); err != nil {
			t.Fatal(err)
		}
		// Nor may he answer, mark read, type or delete in it.
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "?"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("reply: %v", err)
		}
		if _, err := f.svc.MarkRead(ctx, piet.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("mark read: %v", err)
		}
		if _, err := f.svc.ParticipantIDs(ctx, piet.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("participant ids: %v", err)
		}
		if err := f.svc.RemoveFromBox(ctx, piet.Identity(), msgID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("remove from box: %v", err)
		}
		// Live: a push for everyone reaches the medical member and Jan
		// only; typing neither reaches Piet nor comes from him.
		readers, err := f.svc.LiveUpdate(ctx, tid, msgID, []int64{arts.ID, piet.ID, jan.ID, f.hr.ID})
		if err != nil || len(readers) != 2 || readers[0].UserID != arts.ID || readers[1].UserID != jan.ID {
			t.Fatalf("live readers: %+v %v", readers, err)
		}
		if to, err := f.svc.LiveTyping(ctx, tid, arts.ID, []int64{piet.ID, jan.ID, f.hr.ID}); err != nil || len(to) != 1 || to[0].UserID != jan.ID {
			t.Fatalf("typing reaches %+v %v", to, err)
		}
		if to, err := f.svc.LiveTyping(ctx, tid, piet.ID, []int64{arts.ID, jan.ID}); err != nil || len(to) != 0 {
			t.Fatalf("piet's typing: %+v %v", to, err)
		}
		if n := medicalOpens(t, d, arts.ID, tid); n != 2 {
			t.Fatalf("live pushes audited: %d rows, want 2", n)
		}
	})
}

// checkReadableTotals fails unless every user's unread total is the sum of
// the unread counts of the conversations they may read (the medical rule):
// what the header, the daily summary and the team tabs show.
func checkReadableTotals(t *testing.T, d *db.DB, step string) {
	t.Helper()
	var bad []struct{ ID, UnreadTotal, Sum int64 }
	if err := d.NewRaw(`SELECT * FROM (SELECT u.id, u.unread_total,
  (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p JOIN threads AS t ON t.id = p.thread_id
    WHERE p.user_id = u.id AND (NOT t.medical OR u.kind <> 'internal' OR EXISTS (SELECT 1 FROM team_members AS mm
      JOIN teams AS mt ON mt.id = mm.team_id WHERE mm.user_id = u.id AND mt.medical AND mt.org_id = t.org_id))) AS sum
  FROM users AS u) AS x WHERE unread_total <> sum`).Scan(context.Background(), &bad); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("after %s the unread totals count conversations their users may not read: %+v", step, bad)
	}
}

// TestMedicalUnreadAfterLosingAccess: someone who loses access to medical
// conversations (their team's medical flag is cleared, or they leave the
// medical team while taking part personally) no longer has them in their
// unread count, their team tab or their notification mail, also for
// messages and sealed documents added afterwards; regaining access counts
// them again.
func TestMedicalUnreadAfterLosingAccess(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		arts := f.active(t, "anna@osaw.nl", true, "Anna", "", "Arts")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		med, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{arts, piet} {
			if err := f.svc.AddTeamMember(ctx, med.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		fromTeam, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Spreekuur", Body: "Uitslag", Medical: true, TeamID: med.ID})
		if err != nil {
			t.Fatal(err)
		}
		personal, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{jan.Email, piet.Email}, Subject: "Diagnose", Body: "Uitslag", Medical: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{piet.Email}, Subject: "Rooster", Body: "Gewoon werk"}); err != nil {
			t.Fatal(err)
		}
		for _, tid := range []int64{fromTeam, personal} {
			if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Dank u"}); err != nil {
				t.Fatal(err)
			}
		}
		unread := func() int {
			t.Helper()
			n, err := f.svc.UnreadCount(ctx, piet.ID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		tab := func() int {
			t.Helper()
			teams, err := f.svc.MyTeams(ctx, piet.Identity())
			if err != nil || len(teams) != 1 {
				t.Fatalf("piet's teams: %+v (%v)", teams, err)
			}
			return teams[0].Unread
		}
		checkReadableTotals(t, d, "setting up")
		// Piet: 2 in the team's conversation and 2 in the personal one
		// (arts' first message, jan's reply), 1 of hr.
		if n := unread(); n != 5 {
			t.Fatalf("piet has %d unread, want 5", n)
		}
		if n := tab(); n != 2 {
			t.Fatalf("piet's team tab: %d unread, want 2", n)
		}

		if err := f.svc.SetTeamMedical(ctx, med.ID, false); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "the team lost its medical flag")
		if n := unread(); n != 1 {
			t.Fatalf("piet without medical access has %d unread, want 1 (hr's)", n)
		}
		if n := tab(); n != 0 {
			t.Fatalf("piet's team tab without medical access: %d unread", n)
		}
		mails := len(f.mailsTo(t, piet.Email))
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: personal, Body: "Nog een vraag"}); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "a reply piet may not read")
		if n := unread(); n != 1 {
			t.Fatalf("a reply piet may not read counts: %d unread", n)
		}
		if n := len(f.mailsTo(t, piet.Email)); n != mails {
			t.Fatalf("piet was mailed about a medical conversation he may not read (%d mails, had %d)", n, mails)
		}

		if err := f.svc.SetTeamMedical(ctx, med.ID, true); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "the medical flag came back")
		if n := unread(); n != 6 { // with jan's newest reply
			t.Fatalf("piet with medical access again has %d unread, want 6", n)
		}

		if err := f.svc.RemoveTeamMember(ctx, med.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "piet left the medical team")
		if n := unread(); n != 1 {
			t.Fatalf("piet outside the medical team has %d unread, want 1", n)
		}
		// A sealed document in the medical conversation piet takes part in
		// personally is counted as any new message is: not for him.
		doc, err := f.svc.StoreDocument(ctx, "application/pdf", []byte("%PDF-1.7 verklaring"))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := f.svc.PostDocumentTx(ctx, tx, personal, &arts.ID, messaging.SystemSigned, "verklaring.pdf", doc)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "a sealed document piet may not read")
		if n := unread(); n != 1 {
			t.Fatalf("a sealed document piet may not read counts: %d unread", n)
		}
		if err := f.svc.AddTeamMember(ctx, med.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		checkReadableTotals(t, d, "piet joined the medical team again")
	})
}

// TestNotificationMailNamesNoMedicalTeam: the mail that tells an outsider of
// a message leaves Dialoog (often to a mailbox at work that others read), so
// it never names a medical team nor a team in a medical conversation: it
// names the organisation. A team that is not medical is named as before.
func TestNotificationMailNamesNoMedicalTeam(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		arts := f.active(t, "anna@osaw.nl", true, "Anna", "", "Arts")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		kim := f.active(t, "kim@example.nl", false, "Kim", "", "Smit")
		med, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts psychische klachten", true, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, med.ID, arts.Email); err != nil {
			t.Fatal(err)
		}
		// A medical team's conversation that is not marked medical.
		if _, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Afspraak", Body: "Dinsdag?", TeamID: med.ID}); err != nil {
			t.Fatal(err)
		}
		// A medical conversation of the medical team.
		if _, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{kim.Email}, Subject: "Uitslag", Body: "Goed nieuws", TeamID: med.ID, Medical: true}); err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{jan.Email, kim.Email} {
			ms := f.mailsTo(t, to)
			if len(ms) != 1 {
				t.Fatalf("%d mails to %s, want 1", len(ms), to)
			}
			if got, want := ms[0].Mail.Subject, "Je hebt een nieuw bericht van OSAW"; got != want {
				t.Errorf("mail to %s: %q, want %q", to, got, want)
			}
			if m := ms[0].Mail; strings.Contains(m.Subject+m.Text+m.HTML+m.FromName, "Bedrijfsarts") {
				t.Errorf("mail to %s names the medical team: %+v", to, m)
			}
		}
	})
}
