package handlers

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dialoog/messaging"
)

var chipID = regexp.MustCompile(`<input type="hidden" name="attachment" value="(\d+)">`)

// TestUpload: one file per request, answered with its chip; refused files
// get a clear reason.
func TestUpload(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")

	resp, chip := hr.b.postMultipart("/bijlagen", nil, []testFile{{"file", "Verslag.pdf", pdfFile}}, false)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, chip, `<li id="attachment-`, `class="chip"`, `<span class="chip__name">Verslag.pdf</span>`, "bytes</span>",
		`data-remove-chip hidden>Verwijderen<span class="visually-hidden"> Verslag.pdf</span></button>`)
	if !chipID.MatchString(chip) {
		t.Fatalf("no attachment id in the chip:\n%s", chip)
	}
	wantNotContains(t, chip, "<html", "<h1")

	const typeMsg = "Dit type bestand is niet toegestaan. Toegestaan: PDF, afbeeldingen (PNG, JPEG, GIF, WebP), tekst en Office-documenten."
	cases := []struct {
		name string
		file testFile
		want string
	}{
		{"exe", testFile{"file", "setup.exe", exeFile}, "setup.exe: " + typeMsg},
		{"HTML renamed PDF", testFile{"file", "factuur.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")}, "factuur.pdf: " + typeMsg},
		{"exe renamed PDF", testFile{"file", "factuur.pdf", exeFile}, "factuur.pdf: " + typeMsg},
		{"too big", testFile{"file", "scan.pdf", append(append([]byte{}, pdfFile...), bytes.Repeat([]byte{' '}, messaging.MaxAttachmentSize)...)},
			"scan.pdf: Dit bestand is te groot: een bijlage mag maximaal 25 MB zijn."},
		{"empty", testFile{"file", "leeg.txt", nil}, "leeg.txt: Dit bestand is leeg."},
		{"no file", testFile{"other", "x.pdf", pdfFile}, "Dit bestand is leeg."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := hr.b.postMultipart("/bijlagen", nil, []testFile{tc.file}, false)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, `<li class="chip chip--error" role="alert">`, tc.want)
			wantNotContains(t, page, `name="attachment"`, "<script>")
		})
	}

	// English messages for an English user.
	kim := ra.person(t, "kim@example.nl", false, "Kim", "", "Smit", "en")
	resp, page := kim.b.postMultipart("/bijlagen", nil, []testFile{{"file", "setup.exe", exeFile}}, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "This type of file is not allowed.")
}

// TestAttachmentsInMessages: uploaded chips become a message's files; the
// download is an attachment in its stored type, never sniffed, rendered in
// a sandbox or cached. Without script the files travel with the form.
func TestAttachmentsInMessages(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")

	_, chip := hr.b.postMultipart("/bijlagen", nil, []testFile{{"file", "Rapporté 2026.pdf", pdfFile}}, false)
	id := chipID.FindStringSubmatch(chip)[1]
	resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Rapport"}, "body": {"Zie bijlage"}, "attachment": {id}})
	threadID := threadIDFrom(t, resp)

	_, page := jan.b.get("/berichten/" + itoa(threadID))
	wantContains(t, page, `<a href="/bijlagen/`+id+`" download="Rapporté 2026.pdf">Rapporté 2026.pdf</a>`)
	resp, body := jan.b.get("/bijlagen/" + id)
	wantStatus(t, resp, http.StatusOK)
	for header, want := range map[string]string{
		"Content-Type":           "application/pdf",
		"Content-Disposition":    `attachment; filename="Rapport_ 2026.pdf"; filename*=UTF-8''Rapport%C3%A9%202026.pdf`,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if body != string(pdfFile) {
		t.Errorf("downloaded %q", body)
	}
	// Text files keep their charset.
	txt := ra.upload(t, hr.u, "notitie.txt", []byte("Hallo"))
	ra.reply(t, hr.u, threadID, "Nog een", txt)
	resp, _ = jan.b.get("/bijlagen/" + itoa(txt))
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("text Content-Type %q", got)
	}

	// Another user's pending upload cannot be attached: the form comes
	// back with the message.
	foreign := ra.upload(t, jan.u, "van jan.pdf", pdfFile)
	resp, page = hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"S"}, "body": {"B"}, "attachment": {itoa(foreign)}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Een bijlage is niet meer beschikbaar.")
	wantNotContains(t, page, "van jan.pdf")

	// Without script: the files are posted with the form itself.
	resp, _ = hr.b.postMultipart("/berichten/nieuw",
		url.Values{"to": {jan.u.Email}, "subject": {"Zonder script"}, "body": {"Twee bijlagen"}},
		[]testFile{{"files", "een.pdf", pdfFile}, {"files", "twee.txt", []byte("tekst")}, {"files", "", nil}}, false)
	noJS := threadIDFrom(t, resp)
	_, page = jan.b.get("/berichten/" + itoa(noJS))
	wantContains(t, page, ">een.pdf</a>", ">twee.txt</a>", "Twee bijlagen")

	// A refused file brings the form back with everything typed and the
	// accepted file kept as a chip.
	resp, page = hr.b.postMultipart("/berichten/nieuw",
		url.Values{"to": {jan.u.Email}, "subject": {"Met fout"}, "body": {"Mijn lange tekst"}},
		[]testFile{{"files", "goed.pdf", pdfFile}, {"files", "virus.exe", exeFile}}, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "virus.exe: Dit type bestand is niet toegestaan.", `value="Met fout"`, ">Mijn lange tekst</textarea>",
		`value="`+jan.u.Email+`"`, `<span class="chip__name">goed.pdf</span>`, `class="error-summary"`, `<a href="#compose-files">Bijlagen:`)
	kept := chipID.FindStringSubmatch(page)
	if kept == nil {
		t.Fatalf("accepted file not kept:\n%s", page)
	}
	resp, _ = hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Met fout"}, "body": {"Mijn lange tekst"}, "attachment": {kept[1]}})
	fixed := threadIDFrom(t, resp)
	_, page = jan.b.get("/berichten/" + itoa(fixed))
	wantContains(t, page, ">goed.pdf</a>")

	// Replies take files the same way.
	resp, _ = jan.b.postMultipart("/berichten/"+itoa(threadID), url.Values{"body": {"Hierbij"}}, []testFile{{"files", "antwoord.pdf", pdfFile}}, false)
	wantRedirect(t, resp, "/berichten/"+itoa(threadID))
	_, page = hr.b.get("/berichten/" + itoa(threadID))
	wantContains(t, page, ">antwoord.pdf</a>")
}

func TestContentDisposition(t *testing.T) {
	cases := map[string]string{
		"brief.pdf":                 `attachment; filename="brief.pdf"; filename*=UTF-8''brief.pdf`,
		"Rapporté 2026.pdf":         `attachment; filename="Rapport_ 2026.pdf"; filename*=UTF-8''Rapport%C3%A9%202026.pdf`,
		`a"b\c;d.txt`:               `attachment; filename="a_b_c;d.txt"; filename*=UTF-8''a%22b%5Cc%3Bd.txt`,
		"日本.pdf":                    `attachment; filename="__.pdf"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf`,
		"x\r\nSet-Cookie: a=b.pdf":  `attachment; filename="x__Set-Cookie: a=b.pdf"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db.pdf`,
		"":                          `attachment; filename="bijlage"; filename*=UTF-8''bijlage`,
		"100%.pdf":                  `attachment; filename="100%.pdf"; filename*=UTF-8''100%25.pdf`,
		"<img src=x onerror=1>.pdf": `attachment; filename="<img src=x onerror=1>.pdf"; filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3D1%3E.pdf`,
	}
	for name, want := range cases {
		if got := contentDisposition(name); got != want {
			t.Errorf("contentDisposition(%q)\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	for s, want := range map[string]int64{"1": 1, "42": 42, "007": 7, "9223372036854775807": 9223372036854775807} {
		if got, ok := parseID(s); !ok || got != want {
			t.Errorf("parseID(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "0", "-1", "+1", " 1", "1 ", "1e3", "0x1f", "abc", "9223372036854775808", "99999999999999999999", "١"} {
		if got, ok := parseID(s); ok {
			t.Errorf("parseID(%q) = %d, want refused", s, got)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "-1", "9223372036854775808", "00000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseID(s)
		if !ok {
			return
		}
		if id <= 0 || strings.TrimLeft(s, "0") != strconv.FormatInt(id, 10) {
			t.Fatalf("parseID(%q) = %d", s, id)
		}
	})
}

// TestUploadLongNonASCIIName: a file name as long as a file system allows
// (255 characters) in a script of two- or three-byte characters is
// accepted by its extension and stored shortened with the extension kept,
// on both ways of uploading, instead of refused as a type not allowed.
func TestUploadLongNonASCIIName(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	names := map[string]string{
		"Arabic":   strings.Repeat("تقرير", 50) + ".pdf", // 250 characters, 500 bytes before the extension
		"Japanese": strings.Repeat("報告書", 83) + ".pdf",   // 249 characters, 747 bytes
	}
	for script, name := range names {
		t.Run(script, func(t *testing.T) {
			resp, chip := hr.b.postMultipart("/bijlagen", nil, []testFile{{"file", name, pdfFile}}, false)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, chip, `.pdf</span>`)
			resp, _ = hr.b.postMultipart("/berichten/nieuw",
				url.Values{"to": {jan.u.Email}, "subject": {script}, "body": {"Zonder script"}},
				[]testFile{{"files", name, pdfFile}}, false)
			_, page := jan.b.get("/berichten/" + itoa(threadIDFrom(t, resp)))
			wantContains(t, page, `.pdf</a>`)
		})
	}
}

// TestUploadDiscard: "Verwijderen" on a chip posts the file's removal
// (app.js): the user's unsent upload is deleted at once; anyone else's
// file, or a sent one, is 404 and stays.
func TestUploadDiscard(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	_, chip := hr.b.postMultipart("/bijlagen", nil, []testFile{{"file", "verkeerd.pdf", pdfFile}}, false)
	id := chipID.FindStringSubmatch(chip)[1]
	wantContains(t, chip, `data-discard="/bijlagen/`+id+`/verwijderen"`)
	resp, _ := jan.b.post("/bijlagen/"+id+"/verwijderen", nil)
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = hr.b.post("/bijlagen/"+id+"/verwijderen", nil)
	wantStatus(t, resp, http.StatusNoContent)
	resp, _ = hr.b.get("/bijlagen/" + id)
	wantStatus(t, resp, http.StatusNotFound)

	sent := ra.upload(t, hr.u, "goed.pdf", pdfFile)
	threadID := ra.compose(t, hr.u, "Rapport", "Zie bijlage", jan.u.Email)
	ra.reply(t, hr.u, threadID, "Hierbij", sent)
	resp, _ = hr.b.post("/bijlagen/"+itoa(sent)+"/verwijderen", nil)
	wantStatus(t, resp, http.StatusNotFound)
	resp, body := jan.b.get("/bijlagen/" + itoa(sent))
	wantStatus(t, resp, http.StatusOK)
	if body != string(pdfFile) {
		t.Errorf("the sent file: %q", body)
	}
}
