package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/digitorus/pkcs7"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// twoPages draws a small two-page document, as an uploaded agreement.
func twoPages(t testing.TB) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetFont("Helvetica", "", 12)
	for i := 1; i <= 2; i++ {
		p.AddPage()
		p.Cell(100, 10, "Plan van aanpak, pagina "+string(rune('0'+i)))
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testEvidence(original []byte) Evidence {
	sum := sha256.Sum256(original)
	at := time.Date(2026, 7, 1, 10, 30, 0, 0, time.UTC)
	return Evidence{
		Organisation: "Arbodienst Zuid",
		DocumentName: "plan-van-aanpak.pdf",
		SHA256:       hex.EncodeToString(sum[:]),
		Pages:        2,
		RequestedBy:  "Carla Casemanager",
		RequestedAt:  at.Add(-time.Hour),
		Language:     "nl",
		Signatures: []Signature{
			{Name: "Eva Werknemer", Email: "eva@example.org", Method: MethodSMS, MaskedPhone: "+31 6 •••• ••78",
				At: at, IP: "192.0.2.10", UserAgent: "Mozilla/5.0 (Linux; Android 14) Mobile"},
			{Name: "Joël Werkgever", Email: "joel@example.com", Method: MethodApp,
				At: at.Add(20 * time.Minute), IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
		},
	}
}

func testKeyPair(t testing.TB, org string) *KeyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := selfSigned(org, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// needTool returns the path of a poppler-utils tool; it skips the test
// when the tool is absent, but fails it under CI, which installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (poppler-utils) is required under CI: %v", name, err)
		}
		t.Skipf("%s (poppler-utils) not installed", name)
	}
	return p
}

func sealForTest(t *testing.T, kp *KeyPair) (original, sealed []byte) {
	t.Helper()
	original = twoPages(t)
	doc, err := Assemble(original, testEvidence(original))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err = Sign(doc, kp, "Arbodienst Zuid", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return original, sealed
}

func TestSealedPDFPassesPdfsig(t *testing.T) {
	pdfsig := needTool(t, "pdfsig")
	_, sealed := sealForTest(t, testKeyPair(t, "Arbodienst Zuid"))
	dir := t.TempDir()
	run := func(data []byte) string {
		path := filepath.Join(dir, "doc.pdf")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(pdfsig, "-nocert", path).CombinedOutput()
		return string(out)
	}
	t.Run("Valid", func(t *testing.T) {
		out := run(sealed)
		if !strings.Contains(out, "Signature Validation: Signature is Valid.") {
			t.Fatalf("pdfsig does not call the seal valid:\n%s", out)
		}
		if !strings.Contains(out, "Total document signed") {
			t.Fatalf("pdfsig does not see the whole document signed:\n%s", out)
		}
		if !strings.Contains(out, "Signature Type: ETSI.CAdES.detached") {
			t.Fatalf("not a PAdES signature:\n%s", out)
		}
	})
	t.Run("OneByteChanged", func(t *testing.T) {
		tampered := tamper(t, sealed)
		out := run(tampered)
		if strings.Contains(out, "Signature Validation: Signature is Valid.") {
			t.Fatalf("pdfsig calls a changed file valid:\n%s", out)
		}
	})
}

// tamper changes one byte of the signed content: a digit of the first
// page's text.
func tamper(t testing.TB, sealed []byte) []byte {
	t.Helper()
	out := bytes.Clone(sealed)
	i := bytes.Index(out, []byte("%PDF-"))
	// A byte inside the first object, well inside the signed range.
	j := bytes.Index(out[i:], []byte(" obj"))
	if j < 0 {
		t.Fatal("no object in the sealed file")
	}
	k := i + j + 20
	out[k] ^= 0x01
	return out
}

func TestSealedPDFPagesAndText(t *testing.T) {
	original, sealed := sealForTest(t, testKeyPair(t, "Arbodienst Zuid"))
	before, err := PageCount(original)
	if err != nil {
		t.Fatal(err)
	}
	after, err := PageCount(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if after != before+1 {
		t.Fatalf("sealed PDF has %d pages, want %d + 1", after, before)
	}
	pdftotext := needTool(t, "pdftotext")
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-f", "3", "-l", "3", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	ev := testEvidence(original)
	want := []string{"Bewijs van ondertekening", ev.Organisation, ev.DocumentName, ev.SHA256, ev.RequestedBy,
		"2026-07-01 10:30:00 UTC", "2026-07-01 12:30:00 CEST", "+31 6", "app", "192.0.2.10", "2001:db8::1", "Android 14"}
	for _, s := range ev.Signatures {
		want = append(want, s.Name, s.Email)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("evidence page lacks %q:\n%s", w, text)
		}
	}
}

func TestInspect(t *testing.T) {
	kp := testKeyPair(t, "Arbodienst Zuid")
	original, sealed := sealForTest(t, kp)
	t.Run("OK", func(t *testing.T) {
		in, err := Inspect(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in.Signer.Raw, kp.Cert.Raw) {
			t.Fatal("signer is not the sealing certificate")
		}
		if in.Evidence == nil || len(in.Evidence.Signatures) != 2 || in.Evidence.SHA256 != testEvidence(original).SHA256 {
			t.Fatalf("evidence = %+v", in.Evidence)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		if _, err := Inspect(tamper(t, sealed)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("err = %v, want ErrBadSignature", err)
		}
	})
	t.Run("Appended", func(t *testing.T) {
		extra := append(bytes.Clone(sealed), []byte("\n1 0 obj\n<<>>\nendobj\n")...)
		if _, err := Inspect(extra); !errors.Is(err, ErrPartial) {
			t.Fatalf("err = %v, want ErrPartial", err)
		}
	})
	t.Run("Unsigned", func(t *testing.T) {
		if _, err := Inspect(original); !errors.Is(err, ErrUnsigned) {
			t.Fatalf("err = %v, want ErrUnsigned", err)
		}
	})
}

// TestPAdESAttributes: the CMS is a PAdES baseline one: the signing
// certificate is named by signing-certificate-v2 and there is no
// signing-time attribute (the dictionary's /M gives the time).
func TestPAdESAttributes(t *testing.T) {
	kp := testKeyPair(t, "Arbodienst Zuid")
	_, sealed := sealForTest(t, kp)
	m := byteRangeRE.FindAllSubmatchIndex(sealed, -1)
	br, err := parseByteRange(sealed, m[len(m)-1])
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(string(sealed[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatal(err)
	}
	var rest asn1.RawValue
	tail, err := asn1.Unmarshal(raw, &rest)
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(raw[:len(raw)-len(tail)])
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &at); err == nil {
		t.Fatal("CMS carries a signing-time attribute")
	}
	var v2 asn1.RawValue
	if err := p7.UnmarshalSignedAttribute(oidSigningCertificateV2, &v2); err != nil {
		t.Fatalf("no signing-certificate-v2: %v", err)
	}
	sum := sha256.Sum256(kp.Cert.Raw)
	if !bytes.Contains(v2.FullBytes, sum[:]) {
		t.Fatal("signing-certificate-v2 does not name the sealing certificate")
	}
}

// TestSealObjectStreams: an original written with object and xref
// streams (as most current producers write) is sealed and verifies too.
func TestSealObjectStreams(t *testing.T) {
	conf := model.NewDefaultConfiguration()
	conf.WriteObjectStream, conf.WriteXRefStream = true, true
	var compact bytes.Buffer
	if err := api.Optimize(bytes.NewReader(twoPages(t)), &compact, conf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(compact.Bytes(), []byte("/ObjStm")) {
		t.Fatal("no object stream in the test document")
	}
	kp := testKeyPair(t, "Arbodienst Zuid")
	doc, err := Assemble(compact.Bytes(), testEvidence(compact.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Sign(doc, kp, "Arbodienst Zuid", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(sealed); err != nil {
		t.Fatal(err)
	}
	if n, err := PageCount(sealed); err != nil || n != 3 {
		t.Fatalf("PageCount = %d, %v", n, err)
	}
}

func TestCheck(t *testing.T) {
	if n, err := Check(twoPages(t)); err != nil || n != 2 {
		t.Fatalf("Check = %d, %v", n, err)
	}
	if n, err := Check(append([]byte("junk\n"), twoPages(t)...)); err != nil || n != 2 {
		t.Fatalf("Check after junk = %d, %v", n, err)
	}
	locked := fpdf.New("P", "mm", "A4", "")
	locked.SetProtection(0, "geheim", "eigenaar")
	locked.SetFont("Helvetica", "", 12)
	locked.AddPage()
	locked.Cell(100, 10, "Vertrouwelijk")
	var lockedPDF bytes.Buffer
	if err := locked.Output(&lockedPDF); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(lockedPDF.Bytes()); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("Check(encrypted) = %v, want ErrEncrypted", err)
	}
	for _, bad := range [][]byte{nil, []byte("hello"), []byte("%PDF-1.7\n garbage"), twoPages(t)[:300]} {
		if _, err := Check(bad); !errors.Is(err, ErrNotPDF) {
			t.Errorf("Check(%q...) = %v, want ErrNotPDF", bad[:min(len(bad), 10)], err)
		}
	}
}
