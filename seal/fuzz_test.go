package seal

import (
	"testing"
)

// FuzzCheck: the upload check of an outside PDF never panics and either
// refuses the input or returns a positive page count.
func FuzzCheck(f *testing.F) {
	f.Add(twoPages(f))
	f.Add([]byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"))
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Check(data)
		if err == nil && n < 1 {
			t.Fatalf("Check accepted a PDF of %d pages", n)
		}
	})
}

// FuzzInspect: the signature check of an uploaded PDF never panics and
// never accepts a file whose signature it could not verify.
func FuzzInspect(f *testing.F) {
	kp := testKeyPair(f, "Arbodienst Zuid")
	original := twoPages(f)
	doc, err := Assemble(original, testEvidence(original))
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := Sign(doc, kp, "Arbodienst Zuid", testEvidence(original).RequestedAt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(original)
	f.Add([]byte("/ByteRange [0 1 3 0]<00>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Inspect(data)
		if err == nil && in.Signer == nil {
			t.Fatal("Inspect accepted a file without a signer")
		}
	})
}
