package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"dialoog/auth"
	"dialoog/db/dbtest"
	"dialoog/seal"
)

// testAgreementPDF draws a two-page document to seal.
func testAgreementPDF(t *testing.T) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetFont("Helvetica", "", 12)
	for _, s := range []string{"Plan van aanpak", "Afspraken"} {
		p.AddPage()
		p.Cell(100, 10, s)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSealVerifyPage: "Document controleren" is for signed-in users; it
// confirms a PDF this installation sealed and shows its evidence, and
// refuses a changed, an unsigned and a non-PDF file; the form needs its
// CSRF token.
func TestSealVerifyPage(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			ra := newRealAppOn(t, dbtest.MustOpen(t, engine))
			user := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)

			original := testAgreementPDF(t)
			sum := sha256.Sum256(original)
			at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
			ev := seal.Evidence{
				DocumentName: "plan-van-aanpak.pdf", RequestedBy: "Carla Casemanager", RequestedAt: at.Add(-time.Hour),
				Language: "nl",
				Signatures: []seal.Signature{
					{Name: "Eva Werknemer", Email: "eva@example.org", Method: seal.MethodSMS, MaskedPhone: "+31 6 •••• ••78",
						At: at, IP: "192.0.2.10", UserAgent: "Mozilla/5.0 (Android 14) <script>"},
					{Name: "Joost Werkgever", Email: "joost@example.com", Method: seal.MethodApp, At: at.Add(time.Hour),
						IP: "2001:db8::1", UserAgent: "Firefox/140.0"},
				},
			}
			sealed, err := seal.NewStore(ra.d, ra.v, seal.Config{Now: ra.clk.Now}).Seal(ctx, ra.org.ID, original, ev)
			if err != nil {
				t.Fatal(err)
			}

			resp, _ := ra.browser(t).get(pathSealVerify)
			wantRedirect(t, resp, pathLogin)

			resp, page := user.b.get(pathSealVerify)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, "<h1>Document controleren</h1>", `enctype="multipart/form-data"`, `name="document"`,
				`name="`+csrfField+`"`, `href="/document-controleren"`)

			resp, page = user.b.postMultipart(pathSealVerify, nil, []testFile{{"document", "verzegeld.pdf", sealed}}, false)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, "Verzegeld door OSAW en niet gewijzigd", "plan-van-aanpak.pdf", hex.EncodeToString(sum[:]),
				"Carla Casemanager", "Eva Werknemer", "eva@example.org", "SMS-code naar +31 6 •••• ••78",
				"Joost Werkgever", "joost@example.com", "2026-03-02 09:15:00 UTC", "2026-03-02 10:15:00 CET",
				"192.0.2.10", "2001:db8::1", "Mozilla/5.0 (Android 14) &lt;script&gt;")
			wantNotContains(t, page, "<script>")

			foreignKey, err := seal.SelfSigned("OSAW", ra.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			foreign, err := seal.NewStore(ra.d, ra.v, seal.Config{Configured: foreignKey, Now: ra.clk.Now}).Seal(ctx, ra.org.ID, original, ev)
			if err != nil {
				t.Fatal(err)
			}
			tampered := bytes.Clone(sealed)
			tampered[200] ^= 1
			for _, c := range []struct {
				name   string
				file   []byte
				reason string
			}{
				{"tampered", tampered, "gewijzigd nadat het werd verzegeld"},
				{"unsigned", original, "geen digitale handtekening"},
				{"foreign", foreign, "niet met een zegel van Dialoog"},
			} {
				resp, page = user.b.postMultipart(pathSealVerify, nil, []testFile{{"document", c.name + ".pdf", c.file}}, false)
				wantStatus(t, resp, http.StatusOK)
				wantContains(t, page, "Dit document is niet bevestigd", c.reason)
				wantNotContains(t, page, "Verzegeld door", "Eva Werknemer")
			}

			resp, page = user.b.postMultipart(pathSealVerify, nil, []testFile{{"document", "a.pdf", []byte("geen pdf")}}, false)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "geen leesbare PDF")
			resp, page = user.b.postMultipart(pathSealVerify, nil, nil, false)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Kies een PDF-bestand.")

			resp, _ = user.b.postMultipart(pathSealVerify, nil, []testFile{{"document", "verzegeld.pdf", sealed}}, true)
			wantStatus(t, resp, http.StatusForbidden)
		})
	}
}
