package seal

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/pkcs7"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// EvidenceFile is the name of the evidence embedded as JSON in a sealed
// PDF (an embedded file, which PDF readers list as an attachment).
const EvidenceFile = "dialoog-evidence.json"

// KeyPair is a sealing certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	// Chain are the certificates between Cert and a root, for a
	// certificate issued by a (qualified) CA; empty for a self-signed one.
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// Assemble returns original with the evidence page(s) of ev appended and
// ev embedded as EvidenceFile: the document that is then sealed. ev.Pages
// and ev.SHA256 must describe original (Seal fills them in when empty).
func Assemble(original []byte, ev Evidence) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("assemble sealed document: pdf library panic: %v", r)
		}
	}()
	page, err := EvidencePage(ev)
	if err != nil {
		return nil, err
	}
	var merged bytes.Buffer
	if err := api.MergeRaw([]io.ReadSeeker{bytes.NewReader(original), bytes.NewReader(page)}, &merged, false, pdfConfig()); err != nil {
		return nil, fmt.Errorf("append evidence page: %w", err)
	}
	js, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode evidence: %w", err)
	}
	conf := pdfConfig()
	conf.Cmd = model.ADDATTACHMENTS
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(merged.Bytes()), conf)
	if err != nil {
		return nil, fmt.Errorf("read merged document: %w", err)
	}
	mod := ev.RequestedAt
	if len(ev.Signatures) > 0 {
		mod = ev.Signatures[len(ev.Signatures)-1].At
	}
	att := model.Attachment{Reader: bytes.NewReader(js), ID: EvidenceFile, FileName: EvidenceFile,
		Desc: "Dialoog evidence", ModTime: &mod}
	if err := ctx.AddAttachment(att, false); err != nil {
		return nil, fmt.Errorf("embed evidence: %w", err)
	}
	var buf bytes.Buffer
	if err := api.Write(ctx, &buf, conf); err != nil {
		return nil, fmt.Errorf("write sealed document: %w", err)
	}
	return buf.Bytes(), nil
}

// Sign adds a PAdES baseline B-B signature by kp over the whole of doc (a
// certification signature that permits no changes) and returns the signed
// file: pdfsign writes the incremental update with the signature
// dictionary, toPAdES makes its CMS a CAdES one.
func Sign(doc []byte, kp *KeyPair, org string, at time.Time) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("sign document: pdf library panic: %v", r)
		}
	}()
	rdr, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, fmt.Errorf("read document to sign: %w", err)
	}
	chain := append([]*x509.Certificate{kp.Cert}, kp.Chain...)
	var buf bytes.Buffer
	err = sign.Sign(bytes.NewReader(doc), &buf, rdr, int64(len(doc)), sign.SignData{
		Signature: sign.SignDataSignature{
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
			Info: sign.SignDataSignatureInfo{
				Name:   org,
				Reason: "Dialoog seal",
				Date:   at,
			},
		},
		Signer:            kp.Key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       kp.Cert,
		CertificateChains: [][]*x509.Certificate{chain},
	})
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	out, err = toPAdES(buf.Bytes(), kp)
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	return out, nil
}

// Reasons a file is refused by Inspect.
var (
	ErrUnsigned      = errors.New("seal: the PDF carries no signature")
	ErrPartial       = errors.New("seal: the signature does not cover the whole file")
	ErrBadSignature  = errors.New("seal: the signature does not match the file")
	ErrNoEvidence    = errors.New("seal: the PDF carries no Dialoog evidence")
	errBadSigContent = errors.New("seal: malformed signature contents")
)

// Inspection is what Inspect found in a signed file whose signature is
// valid and covers the whole file.
type Inspection struct {
	Signer   *x509.Certificate
	Evidence *Evidence // nil when the file carries none
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// parseByteRange reads the four numbers of a /ByteRange that byteRangeRE
// matched at m.
func parseByteRange(file []byte, m []int) ([4]int, error) {
	var br [4]int
	for i := range br {
		v, err := strconv.Atoi(string(file[m[2+2*i]:m[3+2*i]]))
		if err != nil {
			return br, err
		}
		br[i] = v
	}
	return br, nil
}

// Inspect checks the last signature of file: that its byte range is the
// whole file but for the signature itself, and that the signature matches
// those bytes. It does not judge whose certificate signed: that is the
// caller's (Store.Verify).
func Inspect(file []byte) (in *Inspection, err error) {
	defer func() {
		if r := recover(); r != nil {
			in, err = nil, fmt.Errorf("%w: parser panic: %v", ErrBadSignature, r)
		}
	}()
	all := byteRangeRE.FindAllSubmatchIndex(file, -1)
	if len(all) == 0 {
		return nil, ErrUnsigned
	}
	m := all[len(all)-1]
	br, err := parseByteRange(file, m)
	if err != nil {
		return nil, ErrPartial
	}
	// The signed bytes are [0, br[1]) and [br[2], br[2]+br[3]); between
	// them only the hex string of the signature itself. Anything after
	// them (an incremental update) is outside the signature.
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[3] < 0 || br[2]+br[3] != len(file) {
		return nil, ErrPartial
	}
	gap := file[br[1]:br[2]]
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		return nil, ErrPartial
	}
	hexSig := gap[1 : len(gap)-1]
	raw := make([]byte, hex.DecodedLen(len(hexSig)))
	if _, err := hex.Decode(raw, hexSig); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadSigContent, err)
	}
	// The placeholder is padded with zeros after the DER structure.
	var rest asn1.RawValue
	tail, err := asn1.Unmarshal(raw, &rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if len(bytes.Trim(tail, "\x00")) != 0 {
		return nil, fmt.Errorf("%w: data after the signature", ErrBadSignature)
	}
	p7, err := pkcs7.Parse(raw[:len(raw)-len(tail)])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers", ErrBadSignature, len(p7.Signers))
	}
	signed := make([]byte, 0, br[1]+br[3])
	signed = append(signed, file[:br[1]]...)
	signed = append(signed, file[br[2]:]...)
	p7.Content = signed
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: no signer certificate", ErrBadSignature)
	}
	in = &Inspection{Signer: signer}
	if ev, err := ReadEvidence(file); err == nil {
		in.Evidence = ev
	}
	return in, nil
}

// ReadEvidence returns the evidence embedded in a sealed PDF;
// ErrNoEvidence when there is none.
func ReadEvidence(file []byte) (ev *Evidence, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, fmt.Errorf("%w: parser panic: %v", ErrNoEvidence, r)
		}
	}()
	aa, err := api.ExtractAttachmentsRaw(bytes.NewReader(file), "", []string{EvidenceFile}, pdfConfig())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoEvidence, err)
	}
	for _, a := range aa {
		if a.FileName != EvidenceFile && a.ID != EvidenceFile {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(a.Reader, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoEvidence, err)
		}
		var out Evidence
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoEvidence, err)
		}
		return &out, nil
	}
	return nil, ErrNoEvidence
}
