package handlers

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSigningDeadlineAsTheMessageSays, on both engines: a deadline typed
// as the form's message asks for it (dd-mm-jjjj, where the browser has no
// date picker) is accepted as well as the date picker's 2026-12-31; the
// request must then be answered by the end of that Dutch day.
func TestSigningDeadlineAsTheMessageSays(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la, _ := newSigningApp(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		threadID := la.compose(t, hr.u, "Plan van aanpak", "Hallo", jan.u.Email)
		tp := "/berichten/" + itoa(threadID)

		pdf := la.upload(t, hr.u, "plan.pdf", pdfFile)
		resp, page := hr.b.postMultipart(tp, url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(pdf)},
			"sign": {"1"}, "signers": {itoa(jan.u.ID)}, "deadline": {"31-12"}}, nil, false)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Vul een datum in als dd-mm-jjjj.", `value="31-12"`, "Graag akkoord")

		for i, typed := range []string{"31-12-2026", "2026-12-30"} {
			pdf := la.upload(t, hr.u, "plan.pdf", pdfFile)
			resp, page := hr.b.postMultipart(tp, url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(pdf)},
				"sign": {"1"}, "signers": {itoa(jan.u.ID)}, "deadline": {typed}}, nil, false)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("deadline %q: status %d\n%s", typed, resp.StatusCode, page)
			}
			var deadlines []time.Time
			if err := d.NewSelect().Table("signing_requests").Column("deadline").Where("thread_id = ?", threadID).Order("id").Scan(t.Context(), &deadlines); err != nil {
				t.Fatal(err)
			}
			want := time.Date(2026, 12, 31-i, 23, 59, 59, 0, time.UTC).Add(-time.Hour) // CET is UTC+1
			if len(deadlines) != i+1 || !deadlines[i].Equal(want) {
				t.Fatalf("deadline %q stored as %v, want %v", typed, deadlines, want)
			}
		}
	})
}

// TestSigningReplyErrorsAtTheirFields: a reply refused for its "ter
// ondertekening" choice shows the message beside the signers or the
// deadline, tied to the input, as the compose form does, not only in the
// summary at the top; plain and htmx alike, in the user's language.
func TestSigningReplyErrorsAtTheirFields(t *testing.T) {
	la, _ := newSigningApp(t, dbtest.MustOpenSQLite(t))
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "en")
	jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	threadID := la.compose(t, hr.u, "Plan van aanpak", "Hallo", jan.u.Email)
	tp := "/berichten/" + itoa(threadID)
	pdf := la.upload(t, hr.u, "plan.pdf", pdfFile)
	for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
		resp, page := hr.b.postMultipart(tp, url.Values{"body": {"Please agree"}, "attachment": {itoa(pdf)}, "sign": {"1"}}, nil, false, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, `<p id="reply-signers-error" class="field-error"><span class="visually-hidden">Error: </span>Choose who must agree.</p>`)

		resp, page = hr.b.postMultipart(tp, url.Values{"body": {"Please agree"}, "attachment": {itoa(pdf)}, "sign": {"1"},
			"signers": {itoa(jan.u.ID)}, "deadline": {"2026-01-01"}}, nil, false, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, `<p id="reply-deadline-error" class="field-error"><span class="visually-hidden">Error: </span>Choose a date in the future.</p>`,
			`aria-invalid="true" aria-describedby="reply-deadline-error"`, `value="2026-01-01"`)
	}
}

// TestSigningDeadlineTypoIsRefused, on both engines: a deadline with a
// character too many ("31-12-20267", "2026-12-301") is refused beside the
// field with the text as typed, in the user's language, and no request is
// stored: the form's bound cut it to a valid other day and stored that
// without a word.
func TestSigningDeadlineTypoIsRefused(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la, _ := newSigningApp(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		kees := la.person(t, "kees@osaw.nl", true, "Kees", "", "Smit", "en")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		threadID := la.compose(t, hr.u, "Plan van aanpak", "Hallo", jan.u.Email, kees.u.Email)
		tp := "/berichten/" + itoa(threadID)
		for _, p := range []struct {
			who  *person
			want string
		}{{hr, "Vul een datum in als dd-mm-jjjj."}, {kees, "Enter a date such as 31-12-2026."}} {
			for _, typed := range []string{"31-12-20267", "2026-12-301"} {
				for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
					pdf := la.upload(t, p.who.u, "plan.pdf", pdfFile)
					resp, page := p.who.b.postMultipart(tp, url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(pdf)},
						"sign": {"1"}, "signers": {itoa(jan.u.ID)}, "deadline": {typed}}, nil, false, hx...)
					wantStatus(t, resp, http.StatusUnprocessableEntity)
					wantContains(t, page, p.want, `value="`+typed+`"`, "Graag akkoord")
				}
			}
		}
		if n, err := d.NewSelect().Table("signing_requests").Count(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d signing requests stored (%v)", n, err)
		}
	})
}
