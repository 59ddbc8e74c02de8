package handlers

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/realtime"
	"dialoog/seal"
	"dialoog/signing"
)

// stubSealer stands in for seal.Store in these tests: it marks the
// original and counts the evidence's signatures.
type stubSealer struct{}

func (stubSealer) Seal(_ context.Context, _ int64, original []byte, ev seal.Evidence) ([]byte, error) {
	return append(bytes.Clone(original), []byte("\n%stub-sealed "+strings.Repeat("*", len(ev.Signatures))+"\n")...), nil
}

func stubPages(pdf []byte) (int, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return 0, errors.New("not a pdf")
	}
	return 1, nil
}

type signingMails struct{}

func (signingMails) SigningReminderMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "reminder", Text: link}, nil
}
func (signingMails) SigningExpiredMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "expired", Text: link}, nil
}
func (signingMails) SigningLapsedMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "lapsed", Text: link}, nil
}

// newSigningApp is newLiveAppOn with Ondertekenen wired as serve wires it,
// the seal stubbed.
func newSigningApp(t *testing.T, d *db.DB) (*liveApp, *signing.Service) {
	t.Helper()
	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	broker := realtime.NewLocalBroker()
	var svc *signing.Service
	ra := newRealAppOn(t, d, func(deps *Deps) {
		deps.Hub, deps.Live = hub, broker
		msg := deps.Messages.(*messaging.Service)
		acc := deps.Accounts.(*auth.Accounts)
		svc = &signing.Service{DB: d, Vault: msg.Vault, Messages: msg, Outbox: msg.Outbox, Limiter: acc.Limiter, Codes: acc,
			Sealer: stubSealer{}, Pages: stubPages, Mail: signingMails{}, BaseURL: testBase, Now: acc.Now, Log: acc.Log,
			CodeText: func(lang, code string) string { return "code " + code }}
		deps.Signing = svc
	})
	ra.msg.Events = LiveEvents{Broker: broker}
	stopRelay := realtime.RelayWith(context.Background(), broker, hub, LiveRendererWith(ra.msg, svc, ra.clk.Now), nil,
		realtime.RelayOptions{Admit: func(ctx context.Context, ids []int64) ([]int64, error) { return auth.LiveAdmitted(ctx, ra.d, ids) }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ra.app.Listener(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := ra.app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		<-served
		stopRelay()
		broker.Close()
	})
	return &liveApp{realApp: ra, hub: hub, addr: ln.Addr().String()}, svc
}

var sixDigitRE = regexp.MustCompile(`\b\d{6}\b`)

// TestSigningOverHTTP: a request made with a reply, the card on every
// participant's page, the document inline in a sandbox, authorisation,
// agreement by SMS code in order, live updates on the others' sockets, and
// the sealed PDF in the conversation.
func TestSigningOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la, _ := newSigningApp(t, d)
		ctx := context.Background()
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		kees := la.person(t, "kees@example.nl", false, "Kees", "", "Klaassen", "nl")
		out := la.person(t, "bea@example.nl", false, "Bea", "", "Buiten", "nl")
		threadID := la.compose(t, hr.u, "Plan van aanpak", "Hallo", jan.u.Email, kees.u.Email)
		keesConn := la.connect(t, kees.u, kees.b.session())

		// The reply form offers "ter ondertekening" to the internal user
		// only.
		_, form := hr.b.get("/berichten/" + itoa(threadID) + "/reageer")
		wantContains(t, form, `name="sign"`, `name="signers" value="`+itoa(jan.u.ID)+`"`)
		_, form = jan.b.get("/berichten/" + itoa(threadID) + "/reageer")
		wantNotContains(t, form, `name="sign"`)

		// Without a PDF the reply is refused with the form kept.
		txt := la.upload(t, hr.u, "notitie.txt", []byte("geen pdf"))
		resp, body := hr.b.postMultipart("/berichten/"+itoa(threadID), url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(txt)},
			"sign": {"1"}, "signers": {itoa(jan.u.ID)}}, nil, false)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Voeg een PDF toe")

		pdf := la.upload(t, hr.u, "plan.pdf", pdfFile)
		resp, _ = hr.b.postMultipart("/berichten/"+itoa(threadID), url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(pdf)},
			"sign": {"1"}, "signers": {itoa(jan.u.ID), itoa(kees.u.ID)}, "order": {"1"}, "deadline": {"2026-03-10"}}, nil, false)
		wantStatus(t, resp, http.StatusSeeOther)
		var rid int64
		if err := d.NewSelect().Table("signing_requests").Column("id").Where("thread_id = ?", threadID).Scan(ctx, &rid); err != nil {
			t.Fatal(err)
		}
		base := "/ondertekenen/" + itoa(rid)
		added := readLiveUntil(t, keesConn, `id="signing-`+itoa(rid)+`"`)
		wantContains(t, added, `hx-swap-oob="beforeend:#signing-list-`+itoa(threadID)+`"`, "Ter ondertekening: plan.pdf")

		_, page := jan.b.get("/berichten/" + itoa(threadID))
		wantContains(t, page, "Ter ondertekening: plan.pdf", "Pagina&#39;s: 1", "Jan Jansen", "Kees Klaassen", "wacht",
			`action="`+base+`/akkoord"`, "Ik heb het document gelezen en ga akkoord", base+"/document")
		_, page = kees.b.get("/berichten/" + itoa(threadID))
		wantContains(t, page, "Ter ondertekening: plan.pdf")
		wantNotContains(t, page, base+"/akkoord")

		// The document, inline, in a sandbox.
		resp, doc := jan.b.get(base + "/document")
		wantStatus(t, resp, http.StatusOK)
		if resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline;") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || doc != string(pdfFile) {
			t.Fatalf("document: %v %q", resp.Header, doc)
		}

		if n, err := d.NewSelect().Table("audit_events").Where("kind = ? AND user_id = ?", "signing.viewed", jan.u.ID).Count(ctx); err != nil || n != 1 {
			t.Fatalf("view audited %d times: %v", n, err)
		}

		// Outsiders see nothing; a non-signer cannot sign; Kees waits for
		// his turn.
		resp, _ = out.b.get(base + "/document")
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = out.b.post(base+"/akkoord", url.Values{"read": {"1"}, "code": {"123456"}})
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = hr.b.post(base+"/akkoord", url.Values{"read": {"1"}, "code": {"123456"}})
		wantStatus(t, resp, http.StatusNotFound)
		resp, body = kees.b.post(base+"/akkoord", url.Values{"read": {"1"}, "code": {"123456"}})
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Je bent nog niet aan de beurt")

		// Jan asks for a code and agrees.
		resp, _ = jan.b.post(base+"/code", url.Values{})
		wantStatus(t, resp, http.StatusSeeOther)
		sms, err := notify.LatestDevSMSTo(ctx, d, la.v, testPhone)
		if err != nil {
			t.Fatal(err)
		}
		code := sixDigitRE.FindString(sms.Body)
		resp, body = jan.b.post(base+"/akkoord", url.Values{"code": {code}}, "HX-Request", "true")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Vink aan dat je het document hebt gelezen")
		resp, _ = jan.b.post(base+"/akkoord", url.Values{"read": {"1"}, "code": {code}})
		wantStatus(t, resp, http.StatusSeeOther)

		// Kees's open page hears of it, and gets the forms: his turn.
		push := readLiveUntil(t, keesConn, `id="signing-`+itoa(rid)+`"`)
		wantContains(t, push, `hx-swap-oob="outerHTML:#signing-`+itoa(rid)+`"`, `data-signer-status="agreed"`, base+"/akkoord")

		la.clk.Add(2 * time.Minute) // past the resend wait of the shared test number
		resp, _ = kees.b.post(base+"/code", url.Values{})
		wantStatus(t, resp, http.StatusSeeOther)
		sms, err = notify.LatestDevSMSTo(ctx, d, la.v, testPhone)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = kees.b.post(base+"/akkoord", url.Values{"read": {"1"}, "code": {sixDigitRE.FindString(sms.Body)}})
		wantStatus(t, resp, http.StatusSeeOther)

		// The sealed PDF is a new message of the conversation.
		_, page = hr.b.get("/berichten/" + itoa(threadID))
		wantContains(t, page, "Iedereen is akkoord gegaan. Hieronder staat het verzegelde document.", "plan-ondertekend.pdf", `data-signing-status="sealed"`)
		live := readLiveUntil(t, keesConn, "plan-ondertekend.pdf")
		wantContains(t, live, "Iedereen is akkoord gegaan")
	})
}

// TestSigningWhenComposing: "ter ondertekening" in a new conversation puts
// the PDF to every recipient; without a PDF nothing is sent.
func TestSigningWhenComposing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la, _ := newSigningApp(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		_, form := hr.b.get("/berichten/nieuw")
		wantContains(t, form, `name="sign"`, "De bijgevoegde PDF ter ondertekening aanbieden aan alle ontvangers")
		_, form = jan.b.get("/berichten/nieuw")
		wantNotContains(t, form, `name="sign"`)

		txt := la.upload(t, hr.u, "notitie.txt", []byte("geen pdf"))
		resp, body := hr.b.postMultipart("/berichten/nieuw", url.Values{"to": {"jan@example.nl, kees@example.nl"}, "subject": {"Overeenkomst"},
			"body": {"Graag akkoord"}, "attachment": {itoa(txt)}, "sign": {"1"}}, nil, false)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Voeg een PDF toe", `id="compose-sign" type="checkbox" name="sign" value="1" checked`)

		pdf := la.upload(t, hr.u, "overeenkomst.pdf", pdfFile)
		resp, _ = hr.b.postMultipart("/berichten/nieuw", url.Values{"to": {"jan@example.nl, kees@example.nl"}, "subject": {"Overeenkomst"},
			"body": {"Graag akkoord"}, "attachment": {itoa(pdf)}, "sign": {"1"}, "order": {"1"}}, nil, false)
		threadID := threadIDFrom(t, resp)
		_, page := jan.b.get("/berichten/" + itoa(threadID))
		wantContains(t, page, "Ter ondertekening: overeenkomst.pdf", "Op volgorde", "Jan Jansen", "Genodigde", "/akkoord")
	})
}
