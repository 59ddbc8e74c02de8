package signing_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/seal"
	"dialoog/signing"
)

// minimalPDF is a valid PDF of n empty A4 pages with a correct cross
// reference table, which the real PDF check reads.
func minimalPDF(n int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", i+3)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	for range n {
		obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// TestSealedWithRealStore: with package seal's store and page count (as
// serve wires them), the PDF added to the conversation is sealed by the
// organisation and its embedded evidence lists every signer.
func TestSealedWithRealStore(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.svc.Sealer = seal.NewStore(d, f.v, seal.Config{Now: f.clk.Now})
		f.svc.Pages = seal.PageCount
		id := f.request(t, "plan.pdf", minimalPDF(3), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.piet.ID}})
		if c := f.card(t, f.hr, id); c.Pages != 3 {
			t.Fatalf("pages %d", c.Pages)
		}
		if err := f.agree(f.jan, id, f.sentCode(t, f.jan, id)); err != nil {
			t.Fatal(err)
		}
		if err := f.agree(f.piet, id, appCode(t, f)); err != nil {
			t.Fatal(err)
		}
		c := f.card(t, f.hr, id)
		if c.Status != signing.StatusSealed {
			t.Fatalf("status %s", c.Status)
		}
		th, err := f.msgs.Thread(ctx, f.jan.Identity(), f.thread)
		if err != nil {
			t.Fatal(err)
		}
		last := th.Messages[len(th.Messages)-1]
		_, rc, err := f.msgs.Download(ctx, f.jan.Identity(), last.Attachments[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		in, err := seal.Inspect(sealed)
		if err != nil {
			t.Fatalf("inspect sealed PDF: %v", err)
		}
		if in.Evidence == nil || len(in.Evidence.Signatures) != 2 || in.Evidence.Signatures[0].Email != f.jan.Email ||
			in.Evidence.Signatures[1].Method != seal.MethodApp || in.Evidence.SHA256 != c.SHA256 || in.Evidence.Pages != 3 {
			t.Fatalf("evidence: %+v", in.Evidence)
		}
		if !strings.Contains(in.Signer.Subject.String(), "OSAW") {
			t.Fatalf("sealed by %s", in.Signer.Subject)
		}
	})
}

// appCode is a current code of Piet's authenticator app, computed apart
// from the code under test.
func appCode(t *testing.T, f *fx) string {
	t.Helper()
	code, err := totp.GenerateCode(f.secret, f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}
