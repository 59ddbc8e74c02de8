package seal

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// pdfcpu would otherwise create and read a configuration directory in the
// user's home on first use; Dialoog needs only its built-in defaults.
func init() { api.DisableConfigDir() }

// ErrNotPDF is returned for bytes that are not a readable PDF.
var ErrNotPDF = errors.New("seal: not a readable PDF")

// ErrEncrypted is returned for a PDF protected by a password: it can be
// neither read nor sealed without one.
var ErrEncrypted = errors.New("seal: PDF is encrypted")

// pdfConfig returns a fresh pdfcpu configuration for reading outside input:
// relaxed validation (real-world PDFs bend the rules), and classic xref
// tables without object streams on writing, which every signer and reader
// handles.
func pdfConfig() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false
	return conf
}

// Check reports whether pdf is a readable, unencrypted PDF and returns its
// number of pages; an error wrapping ErrNotPDF or ErrEncrypted otherwise.
// It is the upload check of a document to be signed.
func Check(pdf []byte) (pages int, err error) {
	// The header may follow a little junk, as readers allow.
	if !bytes.Contains(pdf[:min(len(pdf), 1024)], []byte("%PDF-")) {
		return 0, ErrNotPDF
	}
	defer func() {
		// pdfcpu is a large parser of outside input: a panic on a crafted
		// file must not take the server down.
		if r := recover(); r != nil {
			pages, err = 0, fmt.Errorf("%w: parser panic: %v", ErrNotPDF, r)
		}
	}()
	ctx, err := api.ReadAndValidate(bytes.NewReader(pdf), pdfConfig())
	if err != nil {
		if ctx != nil && ctx.Encrypt != nil || isEncryptedErr(err) {
			return 0, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return 0, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	if ctx.Encrypt != nil {
		return 0, ErrEncrypted
	}
	if ctx.PageCount < 1 {
		return 0, fmt.Errorf("%w: no pages", ErrNotPDF)
	}
	return ctx.PageCount, nil
}

// PageCount returns the number of pages of pdf; an error wrapping ErrNotPDF
// (or ErrEncrypted) when it is not a readable PDF.
func PageCount(pdf []byte) (int, error) { return Check(pdf) }

// isEncryptedErr reports whether pdfcpu refused a file for its
// encryption, which it says only in words.
func isEncryptedErr(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "password") || strings.Contains(s, "encrypt")
}
