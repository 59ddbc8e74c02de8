package messaging_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// exportJSON is gesprek.json as a reader of the export parses it.
type exportJSON struct {
	ID           int64
	Subject      string
	Organisation string
	Participants []struct {
		Name     string
		Email    string
		Internal bool
	}
	Messages []struct {
		ID                 int64
		Sender             string
		SenderOrganisation string `json:"sender_organisation"`
		SenderDeleted      bool   `json:"sender_deleted"`
		Mine               bool
		SentAt             time.Time `json:"sent_at"`
		AutoReply          bool      `json:"auto_reply"`
		System             string
		SystemText         string `json:"system_text"`
		Body               string
		ReadAt             *time.Time `json:"read_at"`
		Receipts           []struct {
			Name   string
			ReadAt *time.Time `json:"read_at"`
		}
		Attachments []struct {
			Name         string
			File         string
			ContentType  string `json:"content_type"`
			Size         int64
			SHA256       string
			ChecksumHMAC string `json:"checksum_hmac_sha256"`
		}
	}
}

// conversations parses every gesprek.json of an export, by thread id, with
// the folder it is in.
func conversations(t *testing.T, files map[string]string) (map[int64]exportJSON, map[int64]string) {
	t.Helper()
	out, dirs := map[int64]exportJSON{}, map[int64]string{}
	for name, data := range files {
		if path.Base(name) != "gesprek.json" {
			continue
		}
		var c exportJSON
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, data)
		}
		out[c.ID], dirs[c.ID] = c, path.Dir(name)+"/"
	}
	return out, dirs
}

// TestExportComplete: the export holds every message of the person's box
// with its sender (as the person sees it), time, read receipts, the
// auto-reply flag and system lines, every attachment byte for byte with a
// SHA-256 that matches, the profile, the factors without secrets, the
// security activity and a README; and nothing the person could not see:
// messages and conversations they removed, conversations they are not in,
// another external participant's address.
func TestExportComplete(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		pdf := []byte("%PDF-1.4 bewaard \x00\xff binair")
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "brief <1>.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		// Jan and an invitee without a profile (an outsider to Jan).
		kept, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl", "piet.de-groot@example.nl"},
			Subject: "Verzuim & re-integratie", Body: "Bewaard bericht <script>alert('x')</script> & meer", AttachmentIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), kept, messaging.AddInput{Email: f.boss.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if _, err := f.svc.MarkRead(ctx, emp.Identity(), kept); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		b, _ := f.svc.Upload(ctx, emp.Identity(), "foto.png", pngFile)
		reply, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: kept, Body: "Mijn antwoord\nop twee regels", AttachmentIDs: []int64{b.ID}})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if _, err := f.svc.MarkRead(ctx, f.hr.Identity(), kept); err != nil {
			t.Fatal(err)
		}
		removed, _ := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: kept, Body: "Weggehaald bericht"})
		if err := f.svc.RemoveFromBox(ctx, emp.Identity(), removed); err != nil {
			t.Fatal(err)
		}
		// Jan is away: hr's next conversation gets Jan's automatic reply.
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).
			Set("away_sealed = ?", auth.SealAway(f.v, emp.ID, "Ik ben ziek thuis")).Where("id = ?", emp.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		away, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Afspraak", Body: "Kun je dinsdag?"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := f.svc.Upload(ctx, f.hr.Identity(), "weg.pdf", []byte("%PDF-1.4 verwijderd"))
		gone, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Oud gesprek", Body: "Verwijderd gesprek", AttachmentIDs: []int64{c.ID}})
		if err := f.svc.RemoveThreadFromBox(ctx, emp.Identity(), gone); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.boss.Email}, Subject: "Intern overleg", Body: "Niet voor Jan"}); err != nil {
			t.Fatal(err)
		}
		// Factors and security activity.
		now := f.clk.Now()
		if _, err := d.NewInsert().Model(&[]db.SecondFactor{
			{UserID: emp.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now},
			{UserID: emp.ID, Kind: db.FactorTOTP, TOTPSecret: f.v.Seal([]byte("JBSWY3DPEHPK3PXP"), nil), CreatedAt: now},
		}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewInsert().Model(&db.Passkey{UserID: emp.ID, Name: "Telefoon", CredentialID: []byte{1, 2, 3}, UserHandle: []byte{4},
			Credential: "{}", CreatedAt: now}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := auth.Audit(ctx, d, auth.AuditEntry{UserID: &emp.ID, Kind: "login.ok", Detail: "sms", IP: "192.0.2.7", Now: now}); err != nil {
			t.Fatal(err)
		}
		if err := auth.Audit(ctx, d, auth.AuditEntry{UserID: &f.hr.ID, Kind: "login.ok", IP: "198.51.100.9", Now: now}); err != nil {
			t.Fatal(err)
		}
		emp = f.user(t, "jan@example.nl")

		data, err := exportWith(ctx, f.svc, emp, "203.0.113.5")
		if err != nil {
			t.Fatal(err)
		}
		files := unzip(t, data)
		var all strings.Builder
		for name, content := range files {
			all.WriteString(name + "\n" + content + "\n")
		}
		for _, leak := range []string{"piet.de-groot@example.nl", "piet.de-groot", "Weggehaald bericht", "Verwijderd gesprek", "Oud gesprek",
			"%PDF-1.4 verwijderd", "Intern overleg", "Niet voor Jan", "612345678", "JBSWY3DPEHPK3PXP", "198.51.100.9"} {
			if strings.Contains(all.String(), leak) {
				t.Errorf("the export holds %q", leak)
			}
		}

		// Every message of each conversation in Jan's box, as Jan sees it.
		convs, dirs := conversations(t, files)
		if len(convs) != 2 {
			t.Fatalf("conversations %v, want %d and %d (files %v)", slices.Collect(maps.Keys(convs)), kept, away, keys(files))
		}
		attachments := 0
		for _, id := range []int64{kept, away} {
			v, err := f.svc.Thread(ctx, emp.Identity(), id)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := convs[id]
			if !ok {
				t.Fatalf("conversation %d is missing", id)
			}
			if c.Subject != v.Subject || c.Organisation != "OSAW" || len(c.Participants) != len(v.Participants) {
				t.Errorf("conversation %d: %+v", id, c)
			}
			if len(c.Messages) != len(v.Messages) {
				t.Fatalf("conversation %d: %d messages, the box has %d", id, len(c.Messages), len(v.Messages))
			}
			for i, want := range v.Messages {
				got := c.Messages[i]
				if got.ID != want.ID || got.Body != want.Body || got.Sender != want.SenderName || !got.SentAt.Equal(want.CreatedAt) ||
					got.AutoReply != want.AutoReply || got.Mine != want.Mine || got.System != want.System || len(got.Receipts) != len(want.Receipts) ||
					len(got.Attachments) != len(want.Attachments) || (got.ReadAt == nil) != want.ReadAt.IsZero() {
					t.Errorf("message %d:\n got %+v\nwant %+v", want.ID, got, want)
				}
				for j, r := range want.Receipts {
					if g := got.Receipts[j]; g.Name != r.Name || (g.ReadAt == nil) != r.ReadAt.IsZero() || (g.ReadAt != nil && !g.ReadAt.Equal(r.ReadAt)) {
						t.Errorf("receipt of message %d: %+v, want %+v", want.ID, g, r)
					}
				}
				for j, a := range got.Attachments {
					attachments++
					content, ok := files[dirs[id]+a.File]
					if !ok {
						t.Fatalf("attachment %s is not in the export (files %v)", a.File, keys(files))
					}
					sum := sha256.Sum256([]byte(content))
					if a.SHA256 != hex.EncodeToString(sum[:]) {
						t.Errorf("attachment %s: sha256 %s, the file has %x", a.File, a.SHA256, sum)
					}
					stored := f.storedChecksum(t, want.Attachments[j].ID)
					if a.ChecksumHMAC != hex.EncodeToString(stored) || a.Name != want.Attachments[j].Name || a.Size != int64(len(content)) {
						t.Errorf("attachment %+v, stored checksum %x", a, stored)
					}
				}
			}
		}
		if attachments != 2 {
			t.Fatalf("%d attachments in the JSON, want 2", attachments)
		}
		byID := map[int64]int{}
		for i, m := range convs[kept].Messages {
			byID[m.ID] = i
		}
		msgs := convs[kept].Messages
		first, system, mine := msgs[0], msgs[1], msgs[byID[reply]]
		if first.Sender != "Hanna de Vries" || first.SenderOrganisation != "OSAW" || first.ReadAt == nil || first.Attachments[0].Name != "brief <1>.pdf" ||
			files[dirs[kept]+first.Attachments[0].File] != string(pdf) {
			t.Errorf("hr's first message: %+v", first)
		}
		if system.System != messaging.SystemParticipantAdded || system.SystemText != "Bram Arts is toegevoegd door Hanna de Vries" {
			t.Errorf("system line: %+v", system)
		}
		if !mine.Mine || mine.Body != "Mijn antwoord\nop twee regels" || files[dirs[kept]+mine.Attachments[0].File] != string(pngFile) {
			t.Errorf("Jan's reply: %+v", mine)
		}
		receipts := map[string]bool{}
		for _, r := range mine.Receipts {
			receipts[r.Name] = r.ReadAt != nil
		}
		if want := map[string]bool{"Hanna de Vries": true, "Genodigde P.D.G.": false, "Bram Arts": false}; !maps.Equal(receipts, want) {
			t.Errorf("receipts of Jan's reply: %v, want %v", receipts, want)
		}
		names := []string{}
		for _, p := range convs[kept].Participants {
			names = append(names, p.Name+"|"+p.Email)
		}
		if want := []string{"Hanna de Vries|hr@osaw.nl", "Jan Berg|jan@example.nl", "Genodigde P.D.G.|", "Bram Arts|arts@osaw.nl"}; !slices.Equal(names, want) {
			t.Errorf("participants %v, want %v", names, want)
		}
		auto := convs[away].Messages
		if len(auto) != 2 || !auto[1].AutoReply || !auto[1].Mine || auto[1].Body != "Ik ben ziek thuis" {
			t.Errorf("the auto-reply: %+v", auto)
		}

		// The conversation, readable: escaped, without scripts, linked.
		page := files[dirs[kept]+"gesprek.html"]
		for _, want := range []string{`<html lang="nl">`, "<title>Verzuim &amp; re-integratie</title>", "Bewaard bericht &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; meer",
			"Bram Arts is toegevoegd door Hanna de Vries", "Gelezen door Hanna de Vries op", "Nog niet gelezen door Genodigde P.D.G.",
			`href="bijlagen/` + itoa(a.ID) + `-brief%20_1_.pdf"`, "brief &lt;1&gt;.pdf", "Mijn antwoord\nop twee regels", "Content-Security-Policy"} {
			if !strings.Contains(page, want) {
				t.Errorf("gesprek.html lacks %q:\n%s", want, page)
			}
		}
		if !strings.Contains(files[dirs[away]+"gesprek.html"], "Automatisch antwoord") {
			t.Error("the auto-reply is not marked in the HTML")
		}
		for name, content := range files {
			if strings.HasSuffix(name, ".html") && strings.Contains(strings.ToLower(content), "<script") {
				t.Errorf("%s holds a script element", name)
			}
		}
		index := files["overzicht.html"]
		if !strings.Contains(index, `href="`+dirs[kept]+`gesprek.html"`) || !strings.Contains(index, "Afspraak") {
			t.Errorf("overzicht.html:\n%s", index)
		}

		// The account.
		var profile struct {
			Email   string
			Absence struct {
				Enabled bool
				Message string
			}
		}
		if err := json.Unmarshal([]byte(files["profiel.json"]), &profile); err != nil || profile.Absence.Message != "Ik ben ziek thuis" || !profile.Absence.Enabled {
			t.Errorf("profiel.json (%v):\n%s", err, files["profiel.json"])
		}
		if !strings.Contains(files["profiel.json"], `"last_name": "Berg"`) || !strings.Contains(files["profiel.json"], `"email": "jan@example.nl"`) {
			t.Errorf("profiel.json:\n%s", files["profiel.json"])
		}
		var factors struct {
			Factors []struct {
				Type, Phone, Name string
				AddedAt           *time.Time `json:"added_at"`
			}
		}
		if err := json.Unmarshal([]byte(files["tweede-stap.json"]), &factors); err != nil || len(factors.Factors) != 3 ||
			factors.Factors[0].Type != "sms" || factors.Factors[0].Phone != auth.MaskPhone("+31612345678") || factors.Factors[1].Type != "totp" ||
			factors.Factors[1].AddedAt == nil || factors.Factors[2].Type != "passkey" || factors.Factors[2].Name != "Telefoon" {
			t.Errorf("tweede-stap.json (%v):\n%s", err, files["tweede-stap.json"])
		}
		var activity struct {
			Events []struct{ Kind, IP string }
		}
		if err := json.Unmarshal([]byte(files["beveiligingsactiviteit.json"]), &activity); err != nil {
			t.Fatal(err)
		}
		kinds := []string{}
		for _, ev := range activity.Events {
			kinds = append(kinds, ev.Kind+"@"+ev.IP)
		}
		if want := []string{"login.ok@192.0.2.7", messaging.AuditBoxExported + "@203.0.113.5"}; !slices.Equal(kinds, want) {
			t.Errorf("activity %v, want %v", kinds, want)
		}
		readme := files["LEESMIJ.txt"]
		for _, want := range []string{"jan@example.nl", "overzicht.html", "gesprekken/", "gesprek.html", "gesprek.json", "bijlagen/", "profiel.json",
			"tweede-stap.json", "beveiligingsactiviteit.json", "sha256sum"} {
			if !strings.Contains(readme, want) {
				t.Errorf("LEESMIJ.txt lacks %q:\n%s", want, readme)
			}
		}

		t.Run("English", func(t *testing.T) {
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("language = 'en'").Where("id = ?", emp.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			data, err := exportWith(ctx, f.svc, emp, "")
			if err != nil {
				t.Fatal(err)
			}
			files := unzip(t, data)
			for _, name := range []string{"README.txt", "index.html", "profile.json", "second-factors.json", "security-activity.json"} {
				if _, ok := files[name]; !ok {
					t.Errorf("no %s in %v", name, keys(files))
				}
			}
			conv := files["conversations/"+itoa(kept)+"-verzuim-re-integratie/conversation.html"]
			for _, want := range []string{`<html lang="en">`, "Bram Arts was added by Hanna de Vries", "Read by Hanna de Vries on", "Invitee P.D.G."} {
				if !strings.Contains(conv, want) {
					t.Errorf("conversation.html lacks %q:\n%s", want, conv)
				}
			}
		})
		t.Run("EmptyBox", func(t *testing.T) {
			data, err := export(ctx, f.svc, f.active(t, "leeg@example.nl", false, "Lege", "", "Box"))
			if err != nil {
				t.Fatal(err)
			}
			files := unzip(t, data)
			if !strings.Contains(files["overzicht.html"], "Er staan geen berichten in je berichtenbox.") {
				t.Errorf("overzicht.html of an empty box:\n%s", files["overzicht.html"])
			}
			for name := range files {
				if strings.HasPrefix(name, "gesprekken/") {
					t.Errorf("an empty box has %s", name)
				}
			}
		})
	})
}

// TestExportOneAtATime: while an export of a person is being written, a
// second one (on this or another instance) is refused with a clear
// message; it can start again when the first ends, or once the first's
// lease expired because its instance died.
func TestExportOneAtATime(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		// Another instance on the same database.
		other := messaging.Service{DB: f.svc.DB, Vault: f.svc.Vault, Files: f.svc.Files, Now: f.svc.Now, Log: f.svc.Log}

		first, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range []*messaging.Service{f.svc, &other} {
			_, err := svc.Export(ctx, emp.Identity(), "")
			if apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a second export while the first runs: %v", err)
			}
			wantKey(t, err, "export.running")
		}
		// Another person is not held up.
		if e, err := other.Export(ctx, f.hr.Identity(), ""); err != nil {
			t.Fatalf("another person's export: %v", err)
		} else {
			e.Close()
		}
		if err := first.WriteTo(ctx, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		second, err := other.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatalf("after the first ended: %v", err)
		}
		// The instance writing it dies: its lease expires.
		f.clk.Add(messaging.ExportLease - time.Second)
		if _, err := f.svc.Export(ctx, emp.Identity(), ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("before the lease expired: %v", err)
		}
		f.clk.Add(time.Second)
		third, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatalf("after the lease expired: %v", err)
		}
		second.Close() // the old holder's end does not free the new lease
		if _, err := other.Export(ctx, emp.Identity(), ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("the old holder released the new lease: %v", err)
		}
		third.Close()

		t.Run("Race", func(t *testing.T) {
			// Eight requests at once on two instances: exactly one runs.
			var wg sync.WaitGroup
			var mu sync.Mutex
			var won []messaging.BoxExport
			refused := 0
			for i := range 8 {
				svc := f.svc
				if i%2 == 1 {
					svc = &other
				}
				wg.Go(func() {
					e, err := svc.Export(ctx, emp.Identity(), "")
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won = append(won, e)
					case apperr.CodeOf(err) == apperr.Conflict:
						refused++
					default:
						t.Errorf("export: %v", err)
					}
				})
			}
			wg.Wait()
			for _, e := range won {
				e.Close()
			}
			// The winner's lease was given back.
			if len(won) != 1 || refused != 7 {
				t.Fatalf("%d exports ran at once, %d refused", len(won), refused)
			}
		})
	})
}

// TestExportInstanceBound: an instance writes at most MaxExports exports
// at once; one more waits for its turn, and is refused when none comes.
func TestExportInstanceBound(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	f := setup(t, d)
	f.svc.MaxExports, f.svc.ExportWait = 1, 50*time.Millisecond
	emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
	first, err := f.svc.Export(ctx, f.hr.Identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Export(ctx, emp.Identity(), "")
	if apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("an export beyond the bound: %v", err)
	}
	wantKey(t, err, "export.busy")
	// A second export of a person whose export runs elsewhere is refused
	// as such at once, not after waiting for a turn.
	other := messaging.Service{DB: f.svc.DB, Vault: f.svc.Vault, Files: f.svc.Files, Now: f.svc.Now, Log: f.svc.Log}
	elsewhere, err := other.Export(ctx, emp.Identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.ExportWait = time.Minute
	began := time.Now()
	if _, err := f.svc.Export(ctx, emp.Identity(), ""); apperr.CodeOf(err) != apperr.Conflict || time.Since(began) > 10*time.Second {
		t.Fatalf("a second export on a busy instance: %v after %v", err, time.Since(began))
	}
	elsewhere.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		first.Close()
	}()
	f.svc.ExportWait = 5 * time.Second
	e, err := f.svc.Export(ctx, emp.Identity(), "")
	if err != nil {
		t.Fatalf("waiting for a turn: %v", err)
	}
	e.Close()
}

// exportWith is export from an address.
func exportWith(ctx context.Context, svc *messaging.Service, u *db.User, ip string) ([]byte, error) {
	e, err := svc.Export(ctx, u.Identity(), ip)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := e.WriteTo(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestExportBrokenOff: an attachment that cannot be read after the first
// files were written ends the export with an error (the caller logs it and
// the file is cut off), and the person can export again.
func TestExportBrokenOff(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		a, _ := f.svc.Upload(ctx, f.hr.Identity(), "brief.pdf", []byte("%PDF-1.4 kwijt"))
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Verzuim", Body: "Zie bijlage", AttachmentIDs: []int64{a.ID}}); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(f.dir, "attachments")); err != nil {
			t.Fatal(err)
		}
		e, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.WriteTo(ctx, &buf); err == nil {
			t.Fatalf("export of a lost file: %v after %d bytes", err, buf.Len())
		}
		if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
			t.Fatal("the cut off file reads as a whole ZIP file")
		}
		again, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatalf("exporting again: %v", err)
		}
		again.Close()
	})
}

// failAfter accepts n bytes, then fails every write, as a client that goes
// away during a download.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("connection reset by peer")
	}
	w.n -= len(p)
	return len(p), nil
}

// An export cut off by the client fails with an error that is logged: it
// names the files by their ids, never by the conversation's subject or an
// attachment's name (sealed in the database like message bodies),
// wherever the export broke off.
func TestExportErrorNamesNoContent(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Reintegratieplan", Body: "Zie bijlage"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			content := make([]byte, 20<<10)
			for j := range content {
				content[j] = byte('a' + (j*7+i*13+j/97)%26)
			}
			a, err := f.svc.Upload(ctx, emp.Identity(), fmt.Sprintf("diagnoseverslag-%d.txt", i), content)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Hierbij", AttachmentIDs: []int64{a.ID}}); err != nil {
				t.Fatal(err)
			}
		}
		var whole bytes.Buffer
		exp, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := exp.WriteTo(ctx, &whole); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for n := 0; n < whole.Len(); n += 512 {
			exp, err := f.svc.Export(ctx, emp.Identity(), "")
			if err != nil {
				t.Fatal(err)
			}
			err = exp.WriteTo(ctx, &failAfter{n: n})
			if err == nil {
				continue
			}
			failed++
			for _, s := range []string{"reintegratieplan", "diagnoseverslag"} {
				if strings.Contains(strings.ToLower(err.Error()), s) {
					t.Errorf("cut off after %d bytes: the error names %q: %v", n, s, err)
				}
			}
		}
		if failed == 0 {
			t.Fatal("no export failed: the test proves nothing")
		}
	})
}

// TestExportIsOfTheBoxWhenItBegan: a conversation started while the export
// is written, or one the person is added to meanwhile with only the
// messages from then on, is neither an empty folder nor listed in the
// overview: the export is of the box as it was when it began.
func TestExportIsOfTheBoxWhenItBegan(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		before, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Eerder gestart", Body: "Tekst"})
		if err != nil {
			t.Fatal(err)
		}
		joined, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.boss.Email}, Subject: "Onder collega's", Body: "Tekst"})
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.svc.Export(ctx, emp.Identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Later gestart", Body: "Tekst"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), joined, messaging.AddInput{Email: emp.Email, History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.WriteTo(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		files := unzip(t, buf.Bytes())
		convs, _ := conversations(t, files)
		if len(convs) != 1 || len(convs[before].Messages) != 1 {
			t.Errorf("conversations %v, want only %d with its message (files %v)", slices.Collect(maps.Keys(convs)), before, keys(files))
		}
		for _, gone := range []string{"Later gestart", "Onder collega"} {
			if strings.Contains(files["overzicht.html"], gone) {
				t.Errorf("overzicht.html lists %q:\n%s", gone, files["overzicht.html"])
			}
		}
	})
}

// TestExportFileTimesAreDutch, on both engines: the files in the ZIP carry
// their times in Dutch time in the MS-DOS date fields, which is what
// Windows Explorer and many unzip tools show (they read those fields as
// local time), besides the exact instant in the extended timestamp. A
// message sent at 00:30 on New Year's Day in Amsterdam (23:30 UTC the day
// before) is shown on 1 January at 00:30, not on 31 December at 23:30.
func TestExportFileTimesAreDutch(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		sent := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
		f.clk.Add(sent.Sub(f.clk.Now()))
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "brief.pdf", []byte("%PDF-1.4 oud en nieuw"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Oud en nieuw",
			Body: "Gelukkig nieuwjaar", AttachmentIDs: []int64{a.ID}}); err != nil {
			t.Fatal(err)
		}
		// The export is made in summer time: 14:00 in Amsterdam.
		made := time.Date(2027, 7, 1, 12, 0, 0, 0, time.UTC)
		f.clk.Add(made.Sub(f.clk.Now()))
		data, err := export(ctx, f.svc, emp)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, zf := range zr.File {
			at, want := made, "2027-07-01 14:00"
			if strings.HasPrefix(zf.Name, "gesprekken/") {
				at, want = sent, "2027-01-01 00:30"
				seen++
			}
			// ModTime reads the MS-DOS fields (labelled UTC); Modified
			// is the extended timestamp, the instant itself.
			if got := zf.ModTime().Format("2006-01-02 15:04"); got != want { //nolint:staticcheck // the MS-DOS fields are what is tested
				t.Errorf("%s: MS-DOS time %s, want %s", zf.Name, got, want)
			}
			if !zf.Modified.Equal(at) {
				t.Errorf("%s: extended timestamp %v, want %v", zf.Name, zf.Modified, at)
			}
		}
		if seen != 3 {
			t.Errorf("%d files of the conversation, want gesprek.html, gesprek.json and the attachment", seen)
		}
	})
}
