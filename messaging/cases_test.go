package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// caseAudits counts the audit rows of one kind.
func caseAudits(t *testing.T, d *db.DB, kind string) int {
	t.Helper()
	n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// wantNotFound fails unless err is NotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("%s: want not found, got %v", what, err)
	}
}

// Case grouping: an internal user creates a case from a conversation about
// its external participant, adds another conversation, filters the inbox
// by it and takes one out again; the case page lists conversations,
// participants and files. Nobody outside the organisation's internal users
// sees or changes a case.
func TestCaseGrouping(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Pieters")
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "verslag.pdf", []byte("%PDF-1.4 verslag"))
		if err != nil {
			t.Fatal(err)
		}
		first, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim week 1", Body: "Hoe gaat het?", AttachmentIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		second, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim week 2", Body: "En nu?"})
		if err != nil {
			t.Fatal(err)
		}
		aboutPiet, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{piet.Email}, Subject: "Piet", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}

		// Bad input, with the messages a form shows.
		_, err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), first, jan.ID, "  ")
		wantKey(t, err, "case.reference_required")
		_, err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), first, piet.ID, "P-1")
		wantKey(t, err, "case.subject_not_participant")
		_, err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), first, f.boss.ID, "P-1")
		wantKey(t, err, "case.subject_not_participant")
		// The external person cannot make one.
		_, err = f.svc.CreateCaseForThread(ctx, jan.Identity(), first, jan.ID, "P-1")
		wantNotFound(t, "external creates", err)

		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), first, jan.ID, "P-1234")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), second, jan.ID, "P-1234")
		wantKey(t, err, "case.reference_exists")
		// The second conversation is offered the case; the one about Piet is not.
		tc, err := f.svc.ThreadCase(ctx, f.hr.Identity(), second)
		if err != nil || tc == nil || tc.Current != nil || len(tc.Choices) != 1 || tc.Choices[0].ID != caseID || len(tc.Subjects) != 1 || tc.Subjects[0].UserID != jan.ID {
			t.Fatalf("choices for the second conversation: %+v (%v)", tc, err)
		}
		err = f.svc.AddThreadToCase(ctx, f.hr.Identity(), aboutPiet, caseID)
		wantKey(t, err, "case.subject_not_participant")
		if err := f.svc.AddThreadToCase(ctx, f.hr.Identity(), second, caseID); err != nil {
			t.Fatal(err)
		}
		if n := caseAudits(t, d, "case.thread_added"); n != 2 {
			t.Fatalf("%d audit rows of conversations added, want 2", n)
		}
		tc, err = f.svc.ThreadCase(ctx, f.hr.Identity(), second)
		if err != nil || tc.Current == nil || tc.Current.Reference != "P-1234" || tc.Current.SubjectName != "Jan Jansen" {
			t.Fatalf("case of the second conversation: %+v (%v)", tc, err)
		}
		// The external person learns nothing of the case.
		if tc, err := f.svc.ThreadCase(ctx, jan.Identity(), second); err != nil || tc != nil {
			t.Fatalf("external person sees the case: %+v (%v)", tc, err)
		}

		// The case page.
		cv, err := f.svc.Case(ctx, f.hr.Identity(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		if cv.Reference != "P-1234" || cv.Closed || len(cv.Threads) != 2 || cv.Threads[0].ID != second || cv.Threads[1].Subject != "Verzuim week 1" || !cv.Threads[0].CanOpen {
			t.Fatalf("case page: %+v", cv)
		}
		if len(cv.Participants) != 2 || len(cv.Attachments) != 1 || cv.Attachments[0].Name != "verslag.pdf" || !cv.Attachments[0].CanOpen || cv.Attachments[0].ThreadID != first {
			t.Fatalf("case page people and files: %+v %+v", cv.Participants, cv.Attachments)
		}
		// A colleague of the organisation who takes no part sees the case,
		// but nothing links for them.
		cv, err = f.svc.Case(ctx, f.boss.Identity(), caseID)
		if err != nil || len(cv.Threads) != 2 || cv.Threads[0].CanOpen || cv.Attachments[0].CanOpen {
			t.Fatalf("colleague's case page: %+v (%v)", cv, err)
		}

		// The inbox filtered by the case.
		box, err := f.svc.CaseBox(ctx, f.hr.Identity(), caseID, 1)
		if err != nil || len(box.Threads) != 2 || box.Threads[0].ID != second || box.Threads[1].ID != first || box.CaseID != caseID {
			t.Fatalf("case box: %+v (%v)", box, err)
		}
		if box, err := f.svc.CaseBox(ctx, jan.Identity(), caseID, 1); err != nil || len(box.Threads) != 0 {
			t.Fatalf("external person filters by the case: %+v (%v)", box, err)
		}

		// Others: an external person and an internal user of another
		// organisation get not found.
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger := f.active(t, "hr@ander.nl", true, "Anna", "", "Ander")
		if _, err := d.NewUpdate().Model(stranger).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger.OrgID = &other.ID
		for name, u := range map[string]*db.User{"external": jan, "other organisation": stranger} {
			_, err := f.svc.Case(ctx, u.Identity(), caseID)
			wantNotFound(t, name+" opens the case", err)
			_, err = f.svc.CaseByID(ctx, u.Identity(), caseID)
			wantNotFound(t, name+" loads the case", err)
			wantNotFound(t, name+" closes the case", f.svc.SetCaseClosed(ctx, u.Identity(), caseID, true))
			wantNotFound(t, name+" removes from the case", f.svc.RemoveThreadFromCase(ctx, u.Identity(), first))
			if box, err := f.svc.CaseBox(ctx, u.Identity(), caseID, 1); err != nil || len(box.Threads) != 0 {
				t.Fatalf("%s filters by the case: %+v (%v)", name, box, err)
			}
		}

		// Taking a conversation out.
		if err := f.svc.RemoveThreadFromCase(ctx, f.hr.Identity(), first); err != nil {
			t.Fatal(err)
		}
		box, err = f.svc.CaseBox(ctx, f.hr.Identity(), caseID, 1)
		if err != nil || len(box.Threads) != 1 || box.Threads[0].ID != second {
			t.Fatalf("case box after removing: %+v (%v)", box, err)
		}
		if cv, err = f.svc.Case(ctx, f.hr.Identity(), caseID); err != nil || len(cv.Threads) != 1 || len(cv.Attachments) != 0 {
			t.Fatalf("case page after removing: %+v (%v)", cv, err)
		}
		if n := caseAudits(t, d, "case.thread_removed"); n != 1 {
			t.Fatalf("%d audit rows of conversations removed, want 1", n)
		}
	})
}

// Closing a case makes its conversations read-only for everyone, the
// external person included: no reply, no participant added, no new
// invitation link, and neither is offered; reopening allows changes again.
func TestCaseClosing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, jan.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		mine, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een vraag"})
		if err != nil {
			t.Fatal(err)
		}
		// Kees is invited and has not signed up yet.
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "kees@example.nl", History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		kees := f.user(t, "kees@example.nl")
		f.clk.Add(time.Hour) // past the wait between two links
		// mayChange says what the page shows the internal user: the
		// conversation read-only or not (the forms to add someone and to
		// send a new link stay, hidden while it is read-only, so that
		// reopening the case shows them without a page load).
		mayChange := func(want bool) {
			t.Helper()
			v, err := f.svc.Thread(ctx, f.hr.Identity(), tid)
			if err != nil {
				t.Fatal(err)
			}
			if v.ReadOnly == want || !v.CanAddParticipants || !v.CanResend {
				t.Errorf("read-only %v, add participants %v, resend %v; want read-only %v", v.ReadOnly, v.CanAddParticipants, v.CanResend, !want)
			}
		}
		mayChange(true)
		if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
			t.Fatal(err)
		}
		if n := caseAudits(t, d, "case.closed"); n != 1 {
			t.Fatalf("%d audit rows of closing, want 1", n)
		}
		for _, u := range []*db.User{f.hr, jan} {
			_, err := f.svc.Reply(ctx, u.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Toch nog"})
			wantKey(t, err, "case.closed_readonly")
			v, err := f.svc.Thread(ctx, u.Identity(), tid)
			if err != nil || !v.ReadOnly {
				t.Fatalf("%s sees the closed case's conversation as writable (%v)", u.Email, err)
			}
		}
		err = f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "piet@example.nl", History: messaging.WithHistory})
		wantKey(t, err, "case.closed_readonly")
		wantKey(t, f.svc.ResendInvitation(ctx, f.hr.Identity(), tid, kees.ID), "case.closed_readonly")
		mayChange(false)
		wantKey(t, f.svc.DeleteForEveryone(ctx, f.hr.Identity(), mine), "case.closed_readonly")
		// Nor can it leave the closed case, or be added to another.
		wantKey(t, f.svc.RemoveThreadFromCase(ctx, f.hr.Identity(), tid), "case.closed_readonly")
		var n int64
		if n, err = d.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", tid).Count(ctx); err != nil || n != 3 { // two and the line about Kees
			t.Fatalf("closed conversation has %d messages (%v), want 3", n, err)
		}
		cv, err := f.svc.Case(ctx, f.hr.Identity(), caseID)
		if err != nil || !cv.Closed || cv.ClosedAt.IsZero() {
			t.Fatalf("closed case page: %+v (%v)", cv, err)
		}

		if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
			t.Fatal(err)
		}
		if n := caseAudits(t, d, "case.reopened"); n != 1 {
			t.Fatalf("%d audit rows of reopening, want 1", n)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Het gaat beter"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), mine); err != nil {
			// hr's own message was read by nobody else
			t.Fatal(err)
		}
		if v, err := f.svc.Thread(ctx, jan.Identity(), tid); err != nil || v.ReadOnly {
			t.Fatalf("reopened conversation read-only (%v)", err)
		}
		mayChange(true)
		f.clk.Add(time.Hour) // Jan's answer mailed Kees a link
		if err := f.svc.ResendInvitation(ctx, f.hr.Identity(), tid, kees.ID); err != nil {
			t.Fatalf("resend after reopening: %v", err)
		}
	})
}

// A medical conversation in a case is shown to a non-medical colleague on
// the case page as existence only: no subject, participants or files.
func TestCaseMedicalRedacted(t *testing.T) {
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
		a, err := f.svc.Upload(ctx, arts.Identity(), "uitslag.pdf", []byte("%PDF-1.4 uitslag"))
		if err != nil {
			t.Fatal(err)
		}
		secret, err := f.svc.Compose(ctx, arts.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Diagnose", Body: "Uitslag", Medical: true, AttachmentIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Re-integratie", Body: "Plan"})
		if err != nil {
			t.Fatal(err)
		}
		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), plain, jan.ID, "P-9")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddThreadToCase(ctx, arts.Identity(), secret, caseID); err != nil {
			t.Fatal(err)
		}

		cv, err := f.svc.Case(ctx, f.hr.Identity(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cv.Threads) != 2 {
			t.Fatalf("case page lists %d conversations, want 2", len(cv.Threads))
		}
		for _, th := range cv.Threads {
			if th.ID == secret && (!th.Redacted || th.Subject != "" || th.CanOpen || th.LastMessageAt.IsZero()) {
				t.Fatalf("medical conversation shown to a non-medical colleague: %+v", th)
			}
			if th.ID == plain && (th.Redacted || th.Subject != "Re-integratie") {
				t.Fatalf("plain conversation: %+v", th)
			}
		}
		for _, p := range cv.Participants {
			if p == "Anna Arts" {
				t.Fatalf("participants of the medical conversation shown: %v", cv.Participants)
			}
		}
		if len(cv.Attachments) != 0 {
			t.Fatalf("files of the medical conversation shown: %+v", cv.Attachments)
		}
		// The medical colleague sees it all.
		cv, err = f.svc.Case(ctx, arts.Identity(), caseID)
		if err != nil || len(cv.Attachments) != 1 || !cv.Attachments[0].CanOpen {
			t.Fatalf("medical colleague's case page: %+v (%v)", cv, err)
		}
		for _, th := range cv.Threads {
			if th.Redacted {
				t.Fatalf("medical colleague sees a redacted line: %+v", th)
			}
		}
	})
}

// TestCaseBoxSearch, on both engines: a search typed while the inbox shows
// one case's conversations searches those only, with the case kept, and
// finds nothing for anyone who may not see the case. Before, it searched
// the whole box.
func TestCaseBoxSearch(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		inCase, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim week 1", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		outside, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim vorig jaar", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), inCase, jan.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"verzuim", "Ve", "Jansen", "ja", "osaw"} {
			box, err := f.svc.CaseBoxAfter(ctx, f.hr.Identity(), caseID, 1, "", q)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if len(box.Threads) != 1 || box.Threads[0].ID != inCase || box.Query != q || box.CaseID != caseID {
				t.Errorf("search %q in the case: %+v, want only %d (not %d)", q, box, inCase, outside)
			}
			if all, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q); err != nil || len(all.Threads) != 2 {
				t.Errorf("search %q in the whole box: %+v %v", q, all, err)
			}
		}
		if box, err := f.svc.CaseBoxAfter(ctx, f.hr.Identity(), caseID, 1, "", "vorig jaar"); err != nil || len(box.Threads) != 0 {
			t.Errorf("a conversation outside the case found in it: %+v %v", box, err)
		}
		// Jan takes part in the conversation but may not see the case.
		if box, err := f.svc.CaseBoxAfter(ctx, jan.Identity(), caseID, 1, "", "verzuim"); err != nil || len(box.Threads) != 0 {
			t.Errorf("an outsider's search in the case: %+v %v", box, err)
		}
	})
}
