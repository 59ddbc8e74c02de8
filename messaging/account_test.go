package messaging_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

var pngFile = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)

// export returns the user's box as the bytes of its ZIP file.
func export(ctx context.Context, svc *messaging.Service, u *db.User) ([]byte, error) {
	e, err := svc.Export(ctx, u.Identity(), "")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := e.WriteTo(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// download reads an attachment the user may see.
func download(ctx context.Context, svc *messaging.Service, u *db.User, id int64) ([]byte, error) {
	_, rc, err := svc.Download(ctx, u.Identity(), id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// unzip reads every file of a ZIP into a map by name.
func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func (f *fx) files() int {
	n := 0
	filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestStopService(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		// A conversation hr removed from their box: only emp has it.
		a, _ := f.svc.Upload(ctx, f.hr.Identity(), "alleen.pdf", []byte("%PDF-1.4 alleen jan"))
		only, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Alleen Jan", Body: "Alleen bij Jan", AttachmentIDs: []int64{a.ID}})
		if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), only); err != nil {
			t.Fatal(err)
		}
		// A conversation both keep, with a message (and file) by emp.
		shared, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Gedeeld", Body: "Voor allebei"})
		b, _ := f.svc.Upload(ctx, emp.Identity(), "antwoord.png", pngFile)
		mine, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: shared, Body: "Antwoord van Jan", AttachmentIDs: []int64{b.ID}})
		if err != nil {
			t.Fatal(err)
		}
		// An upload that never got a message.
		if _, err := f.svc.Upload(ctx, emp.Identity(), "los.pdf", []byte("%PDF-1.4 los")); err != nil {
			t.Fatal(err)
		}
		if n := f.files(); n != 3 {
			t.Fatalf("files before: %d", n)
		}

		if err := f.svc.StopService(ctx, emp.Identity()); err != nil {
			t.Fatal(err)
		}
		if n, _ := d.NewSelect().Model((*db.User)(nil)).Where("id = ?", emp.ID).Count(ctx); n != 0 {
			t.Fatal("the user row is still there")
		}
		for _, table := range []string{"sessions", "second_factors", "participants", "message_states"} {
			if n, _ := d.NewSelect().Table(table).Where("user_id = ?", emp.ID).Count(ctx); n != 0 {
				t.Errorf("%s left: %d", table, n)
			}
		}
		if n, _ := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", only).Count(ctx); n != 0 {
			t.Error("the conversation only the user kept is still stored")
		}
		if n, _ := d.NewSelect().Model((*db.Attachment)(nil)).Where("message_id IS NULL").Count(ctx); n != 0 {
			t.Error("the unsent upload is still stored")
		}
		if n := f.files(); n != 1 {
			t.Errorf("files after: %d, want only the one in hr's box", n)
		}
		var audit db.AuditEvent
		if err := d.NewSelect().Model(&audit).Where("kind = ?", messaging.AuditAccountDeleted).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if audit.UserID != nil || len(audit.Detail) != 32 || strings.Contains(audit.Detail, "jan") {
			t.Errorf("audit event: %+v", audit)
		}

		v, err := f.svc.Thread(ctx, f.hr.Identity(), shared)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Messages) != 2 || len(v.Participants) != 1 {
			t.Fatalf("hr's conversation: %d messages, %d participants", len(v.Messages), len(v.Participants))
		}
		m := v.Messages[1]
		if m.ID != mine || !m.SenderDeleted || m.SenderName != "" || m.Mine || m.Body != "Antwoord van Jan" || len(m.Attachments) != 1 {
			t.Fatalf("the deleted user's message: %+v", m)
		}
		if data, err := download(ctx, f.svc, f.hr, m.Attachments[0].ID); err != nil || !bytes.Equal(data, pngFile) {
			t.Fatalf("hr's copy of the file: %v", err)
		}
		if page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, ""); err != nil || len(page.Threads) != 1 {
			t.Fatalf("hr's inbox: %+v %v", page, err)
		}
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: shared, Body: "Nog iemand?"}); err != nil {
			t.Fatalf("replying after the other left: %v", err)
		}
		data, err := export(ctx, f.svc, f.hr)
		if err != nil {
			t.Fatalf("hr's export: %v", err)
		}
		convs, _ := conversations(t, unzip(t, data))
		if ms := convs[shared].Messages; len(ms) != 3 || ms[1].Sender != "Verwijderde gebruiker" || !ms[1].SenderDeleted {
			t.Fatalf("hr's export of the conversation: %+v", convs[shared])
		}
		if err := f.svc.StopService(ctx, emp.Identity()); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("stopping twice: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
