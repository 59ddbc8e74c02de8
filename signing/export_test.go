package signing_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/signing"
)

// TestExportHoldsTheRequests: the box export's data of a conversation
// holds its requests for agreement as its participants see them: the
// document with its checksum, who asked, every signer with what they
// decided and when, and a decline's reason. The sealed PDF is a message
// and an attachment already; the request's course was not in it.
func TestExportHoldsTheRequests(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(2, "P"), signing.RequestInput{SignerIDs: []int64{f.kees.ID, f.jan.ID}})
		if err := f.agree(f.kees, id, f.sentCode(t, f.kees, id)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Decline(ctx, f.jan.Identity(), id, "Klopt niet: <b>datum</b>", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		e, err := f.msgs.Export(ctx, f.jan.Identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.WriteTo(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var conv struct {
			SigningRequests []struct {
				Document    string `json:"document"`
				SHA256      string `json:"document_sha256"`
				Pages       int    `json:"pages"`
				RequestedBy string `json:"requested_by"`
				Status      string `json:"status"`
				Signers     []struct {
					Name      string  `json:"name"`
					Status    string  `json:"status"`
					DecidedAt *string `json:"decided_at"`
					Reason    string  `json:"reason"`
				} `json:"signers"`
			} `json:"signing_requests"`
		}
		found := false
		for _, zf := range zr.File {
			if !strings.HasSuffix(zf.Name, "/gesprek.json") {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if err := json.Unmarshal(b, &conv); err != nil {
				t.Fatalf("%s: %v", zf.Name, err)
			}
			found = true
		}
		if !found {
			t.Fatal("no gesprek.json in the export")
		}
		if len(conv.SigningRequests) != 1 {
			t.Fatalf("signing requests in the export: %+v", conv.SigningRequests)
		}
		r := conv.SigningRequests[0]
		if r.Document != "plan.pdf" || len(r.SHA256) != 64 || r.Pages != 2 || r.RequestedBy != "Hanna Vries" || r.Status != signing.StatusDeclined || len(r.Signers) != 2 {
			t.Fatalf("the request in the export: %+v", r)
		}
		if s := r.Signers[0]; s.Name != "Kees Klaassen" || s.Status != signing.SignerAgreed || s.DecidedAt == nil {
			t.Fatalf("the signer who agreed: %+v", s)
		}
		if s := r.Signers[1]; s.Name != "Jan Jansen" || s.Status != signing.SignerDeclined || s.Reason != "Klopt niet: <b>datum</b>" {
			t.Fatalf("the signer who declined: %+v", s)
		}
	})
}
