package handlers

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dialoog/auth"
	"dialoog/branding"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// testPNG is a small real PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAdminBranding: "Organisatie" is for admins of the organisation only
// (404 for everyone else); refused input keeps what was typed; the name,
// colour and logo reach the invitation page (the colour only through the
// organisation's stylesheet, never inline) and the invitation mail (with
// the sender name), escaped; the logo is served with its exact type, and
// an SVG or an HTML file named .png is refused.
func TestAdminBranding(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			ra := newRealAppOn(t, dbtest.MustOpen(t, engine))
			user := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
			colleague := ra.onboard(t, auth.InviteInput{Email: "collega@example.nl", Internal: true}, false)
			admin := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl", Admin: true}, false)
			other := &db.Organisation{Name: "Ander", CreatedAt: ra.clk.Now()}
			if _, err := ra.d.NewInsert().Model(other).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			otherAdmin := ra.onboard(t, auth.InviteInput{Email: "beheer@ander.nl", Admin: true, OrgID: other.ID}, false)

			// Everyone but an admin gets 404 on every route.
			for _, b := range []*browser{user.b, colleague.b} {
				resp, _ := b.get(pathAdminBranding)
				wantStatus(t, resp, http.StatusNotFound)
				resp, _ = b.post(pathAdminBranding, url.Values{"name": {"X"}})
				wantStatus(t, resp, http.StatusNotFound)
				resp, _ = b.postMultipart(pathAdminBranding+"/logo", nil, []testFile{{"logo", "logo.png", testPNG(t)}}, false)
				wantStatus(t, resp, http.StatusNotFound)
				resp, _ = b.post(pathAdminBranding+"/logo/verwijderen", nil)
				wantStatus(t, resp, http.StatusNotFound)
			}
			resp, _ := ra.browser(t).get(pathAdminBranding)
			wantRedirect(t, resp, pathLogin)

			resp, page := admin.b.get("/beheer")
			wantContains(t, page, `href="/beheer/organisatie"`)
			resp, page = admin.b.get(pathAdminBranding)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, "<h1>Organisatie</h1>", `value="OSAW"`, `name="sender"`, `name="support"`, `name="colour"`, "Er is nog geen logo.")

			// Refused input: every message, and the form as typed.
			resp, page = admin.b.post(pathAdminBranding, url.Values{"name": {""}, "sender": {`Bad "name" <x>`},
				"support": {"Bel ons"}, "colour": {"red"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Vul de naam van de organisatie in.", "Gebruik geen aanhalingstekens",
				"Vul een kleur in als #", `value="Bad &#34;name&#34; &lt;x&gt;"`, `value="red"`, ">Bel ons</textarea>")
			resp, page = admin.b.post(pathAdminBranding, url.Values{"name": {"OSAW"}, "colour": {"#ffff00"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Deze kleur is te licht", `value="#ffff00"`)
			resp, page = admin.b.post(pathAdminBranding, url.Values{"name": {"OSAW"}, "evidence_language": {"de"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Kies Nederlands of English.")
			resp, page = admin.b.post(pathAdminBranding, url.Values{"name": {"OSAW"}, "sender": {"beveiliging@bank.example"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "De afzender is een naam, geen e-mailadres", `value="beveiliging@bank.example"`)
			if b, _ := ra.adminBrand(t, ctx, ra.org.ID); b.Colour != "" {
				t.Fatalf("refused input stored: %+v", b)
			}

			name := `OSAW <script>alert(1)</script>`
			resp, _ = admin.b.post(pathAdminBranding, url.Values{"name": {name}, "sender": {"OSAW via Dialoog"},
				"support": {"Bel de helpdesk: 020 123 45 67"}, "colour": {"#8A1538"}, "evidence_language": {"en"}})
			wantRedirect(t, resp, pathAdminBranding+"?melding=opgeslagen")
			_, page = admin.b.get(pathAdminBranding + "?melding=opgeslagen")
			wantContains(t, page, "De gegevens van de organisatie zijn opgeslagen.", `value="#8a1538"`,
				`value="OSAW &lt;script&gt;alert(1)&lt;/script&gt;"`, `value="en" checked`)
			if b, _ := ra.adminBrand(t, ctx, ra.org.ID); b.EvidenceLanguage != auth.EvidenceEnglish {
				t.Fatalf("evidence language not stored: %+v", b)
			}

			// The support text shows where a person who lost their second
			// step looks at login: for the organisation's own users and the
			// people it invited, escaped; not for another organisation's.
			for _, email := range []string{"jan@example.nl", "collega@example.nl"} {
				_, page = ra.login(t, email).get(pathLoginFactor)
				wantContains(t, page, "Kun je geen tweede stap meer doen?", "<strong>OSAW &lt;script&gt;alert(1)&lt;/script&gt;</strong>",
					"Bel de helpdesk: 020 123 45 67")
			}
			_, page = ra.login(t, "beheer@ander.nl").get(pathLoginFactor)
			wantNotContains(t, page, "Bel de helpdesk", "Kun je geen tweede stap meer doen?")

			// The logo: an SVG and an HTML file named .png are refused by
			// content; a PNG is stored.
			svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
			for _, f := range []testFile{{"logo", "logo.svg", svg}, {"logo", "logo.png", []byte("<html><script>alert(1)</script></html>")}} {
				resp, page = admin.b.postMultipart(pathAdminBranding+"/logo", nil, []testFile{f}, false)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				wantContains(t, page, "Dit is geen PNG- of JPEG-afbeelding.")
			}
			resp, page = admin.b.postMultipart(pathAdminBranding+"/logo", nil, []testFile{{"logo", "logo.png", make([]byte, 300<<10)}}, false)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Het bestand is te groot")
			logo := testPNG(t)
			resp, _ = admin.b.postMultipart(pathAdminBranding+"/logo", nil, []testFile{{"logo", "logo.png", logo}}, false)
			wantRedirect(t, resp, pathAdminBranding+"?melding=logo")

			// Every change is audited with the organisation.
			var kinds []string
			if err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Column("kind").Where("org_id = ?", ra.org.ID).
				Where("kind LIKE 'admin.%'").Order("id").Scan(ctx, &kinds); err != nil {
				t.Fatal(err)
			}
			if strings.Join(kinds, ",") != "admin.branding_changed,admin.logo_changed" {
				t.Fatalf("audit kinds %v", kinds)
			}

			// The invitation page shows the name escaped, the logo, and the
			// colour through the stylesheet only.
			link := ra.invite(t, auth.InviteInput{Email: "nieuw@example.nl"})
			resp, page = ra.browser(t).get(link)
			wantStatus(t, resp, http.StatusOK)
			wantNotContains(t, page, "<script>alert(1)", "style=", "#8a1538")
			wantContains(t, page, "OSAW &lt;script&gt;alert(1)&lt;/script&gt;")
			css := regexp.MustCompile(`<link rel="stylesheet" href="(/huisstijl/\d+-[0-9a-f]+\.css)">`).FindStringSubmatch(page)
			img := regexp.MustCompile(`<img class="org-brand__logo" src="(/huisstijl/\d+-[0-9a-f]+\.png)" alt="OSAW &lt;script&gt;`).FindStringSubmatch(page)
			if css == nil || img == nil {
				t.Fatalf("no stylesheet or logo on the invitation page:\n%s", page)
			}
			resp, body := ra.browser(t).get(css[1])
			wantStatus(t, resp, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
				t.Fatalf("stylesheet type %q", ct)
			}
			wantContains(t, body, "--c-primary:#8a1538")
			resp, body = ra.browser(t).get(img[1])
			wantStatus(t, resp, http.StatusOK)
			if ct, ns := resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"); ct != "image/png" || ns != "nosniff" {
				t.Fatalf("logo served as %q, nosniff %q", ct, ns)
			}
			if body != string(logo) {
				t.Fatal("logo bytes differ")
			}
			// Another hash, extension or organisation is not found.
			for _, p := range []string{strings.Replace(img[1], ".png", ".jpg", 1), strings.Replace(img[1], ".png", ".svg", 1),
				"/huisstijl/" + strconv.FormatInt(other.ID, 10) + "-" + strings.SplitN(strings.TrimPrefix(img[1], "/huisstijl/"), "-", 2)[1],
				"/huisstijl/" + strconv.FormatInt(ra.org.ID, 10) + "-0000000000000000.css"} {
				resp, _ = ra.browser(t).get(p)
				wantStatus(t, resp, http.StatusNotFound)
			}

			// The invitation mail: the sender name, the name escaped, the
			// logo's absolute address, the colour.
			m := ra.lastMail(t, "nieuw@example.nl")
			if m.FromName != "OSAW via Dialoog" {
				t.Fatalf("From name %q", m.FromName)
			}
			wantContains(t, m.HTML, "OSAW &lt;script&gt;alert(1)&lt;/script&gt;", `src="`+testBase+img[1]+`"`, "background-color:#8a1538")
			wantNotContains(t, m.HTML, "<script>")
			wantNotContains(t, m.Subject, "\n")

			// The other organisation's admin sees their own, and their
			// invitations stay neutral.
			_, page = otherAdmin.b.get(pathAdminBranding)
			wantContains(t, page, `value="Ander"`)
			wantNotContains(t, page, "8a1538", "alert(1)", "/huisstijl/")
			link = ra.invite(t, auth.InviteInput{Email: "ander@example.nl", OrgID: other.ID})
			_, page = ra.browser(t).get(link)
			wantNotContains(t, page, "/huisstijl/", "alert(1)")
			if m := ra.lastMail(t, "ander@example.nl"); m.FromName != "" || strings.Contains(m.HTML, "/huisstijl/") {
				t.Fatalf("neutral invitation branded: %q", m.FromName)
			}

			// Removing the logo takes it off the page and its address.
			resp, _ = admin.b.post(pathAdminBranding+"/logo/verwijderen", nil)
			wantRedirect(t, resp, pathAdminBranding+"?melding=logo-weg")
			resp, _ = ra.browser(t).get(img[1])
			wantStatus(t, resp, http.StatusNotFound)
		})
	}
}

func (ra *realApp) adminBrand(t *testing.T, ctx context.Context, orgID int64) (auth.OrgBrand, error) {
	t.Helper()
	return auth.LoadBrand(ctx, ra.d, orgID)
}

// TestStoredColourThatFailsTodaysRules: a colour stored before the rule
// that links in it must be readable on the page (#0077cc, 4.2:1 there)
// reaches the pages, the stylesheet and the invitation mail as its
// readable shade (branding.Readable), never as stored; Beheer shows that
// shade in the form and tells the admin, in their language, that the
// stored colour was adjusted. Saving the form keeps the shade.
func TestStoredColourThatFailsTodaysRules(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		admin := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl", Admin: true}, false)
		const stored = "#0077cc"
		shade := branding.Readable(stored)
		if shade == stored || shade == "" {
			t.Fatalf("Readable(%s) = %q", stored, shade)
		}
		if _, err := d.NewRaw(`INSERT INTO organisation_branding (org_id, sender_name, support_text, colour, evidence_language, updated_at)
VALUES (?, '', '', ?, 'nl', ?)`, ra.org.ID, stored, ra.clk.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := ra.adminBrand(t, ctx, ra.org.ID)
		if err != nil || b.Colour != shade || b.StoredColour != stored {
			t.Fatalf("LoadBrand: colour %q, stored %q, %v; want %s from %s", b.Colour, b.StoredColour, err, shade, stored)
		}

		link := ra.invite(t, auth.InviteInput{Email: "nieuw@example.nl"})
		_, page := ra.browser(t).get(link)
		css := regexp.MustCompile(`<link rel="stylesheet" href="(/huisstijl/\d+-[0-9a-f]+\.css)">`).FindStringSubmatch(page)
		if css == nil {
			t.Fatalf("no stylesheet on the invitation page:\n%s", page)
		}
		_, body := ra.browser(t).get(css[1])
		wantContains(t, body, "--c-primary:"+shade+";")
		wantNotContains(t, body, stored)
		m := ra.lastMail(t, "nieuw@example.nl")
		wantContains(t, m.HTML, "background-color:"+shade)
		wantNotContains(t, m.HTML, stored)

		resp, page := admin.b.get(pathAdminBranding)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, `value="`+shade+`"`, "De opgeslagen kleur "+stored+" is te licht", "toont hem daarom als "+shade)
		resp, _ = admin.b.post("/taal", url.Values{"taal": {"en"}, "terug": {pathAdminBranding}})
		wantRedirect(t, resp, pathAdminBranding)
		_, page = admin.b.get(pathAdminBranding)
		wantContains(t, page, "The stored colour "+stored+" is too light", "so Dialoog shows it as "+shade)

		resp, _ = admin.b.post(pathAdminBranding, url.Values{"name": {b.Name}, "colour": {shade}})
		wantRedirect(t, resp, pathAdminBranding+"?melding=opgeslagen")
		_, page = admin.b.get(pathAdminBranding)
		wantContains(t, page, `value="`+shade+`"`)
		wantNotContains(t, page, "The stored colour")
	})
}

// TestBrandingMessageNamesTheProblem, on both engines: an invisible
// direction mark in the organisation's name or support text is refused
// with a message that says so, not one about quotes "in the sender", and
// quotes in the sender name get a message about those; each beside its
// field, in the admin's language, with the rest of the form as typed.
func TestBrandingMessageNamesTheProblem(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		for _, lang := range []struct{ code, hidden, quotes, sender string }{
			{"nl", "onzichtbaar teken of stuurteken", "Gebruik geen aanhalingstekens", "afzender"},
			{"en", "invisible or control character", "Do not use quotes", "sender"},
		} {
			if _, err := ra.d.NewUpdate().Table("users").Set("language = ?", lang.code).Where("id = ?", admin.u.ID).Exec(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
				resp, page := admin.b.post(pathAdminBranding, url.Values{"name": {"OSAW\u202eknab"}, "sender": {"OSAW via Dialoog"},
					"support": {"Bel ons\n030\u200f"}, "colour": {"#1f4e79"}}, hx...)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				name, support := fieldErrorText(page, "branding-name"), fieldErrorText(page, "branding-support")
				for _, msg := range []string{name, support} {
					if !strings.Contains(msg, lang.hidden) || strings.Contains(msg, lang.sender) {
						t.Errorf("%s: message %q, want one about an invisible character", lang.code, msg)
					}
				}
				wantContains(t, page, `value="OSAW via Dialoog"`, `value="#1f4e79"`)
				resp, page = admin.b.post(pathAdminBranding, url.Values{"name": {"OSAW"}, "sender": {`"OSAW" <x>`}, "colour": {"#1f4e79"}}, hx...)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				if msg := fieldErrorText(page, "branding-sender"); !strings.Contains(msg, lang.quotes) {
					t.Errorf("%s: sender message %q", lang.code, msg)
				}
			}
		}
	})
}

// fieldErrorText is the text of the message beside field id, "" without.
func fieldErrorText(page, id string) string {
	_, rest, ok := strings.Cut(page, `<p id="`+id+`-error" class="field-error">`)
	if !ok {
		return ""
	}
	msg, _, _ := strings.Cut(rest, "</p>")
	return html.UnescapeString(msg)
}
