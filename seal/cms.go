package seal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// pdfsign writes the signature dictionary with the SubFilter of a plain
// PKCS#7 signature and a CMS with a signing-time attribute. A PAdES
// baseline (B-B) signature needs the SubFilter ETSI.CAdES.detached and a
// CMS without signing-time (its time is the dictionary's /M), with the
// ESS signing-certificate-v2 attribute. toPAdES turns the one into the
// other: both SubFilter names have the same length, so every offset and
// the byte range stay as they are; the CMS is then made anew over the
// changed bytes and put into the same placeholder.
var (
	subFilterPKCS7 = []byte("/SubFilter /adbe.pkcs7.detached")
	subFilterCAdES = []byte("/SubFilter /ETSI.CAdES.detached")
)

var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// toPAdES rewrites the single signature of signed (made by pdfsign) as a
// PAdES baseline signature by kp.
func toPAdES(signed []byte, kp *KeyPair) ([]byte, error) {
	out := bytes.Clone(signed)
	i := bytes.LastIndex(out, subFilterPKCS7)
	if i < 0 || bytes.Count(out, subFilterPKCS7) != 1 {
		return nil, errors.New("pades: the signature dictionary was not found once")
	}
	copy(out[i:], subFilterCAdES)
	m := byteRangeRE.FindAllSubmatchIndex(out, -1)
	if len(m) != 1 {
		return nil, errors.New("pades: not exactly one byte range")
	}
	br, err := parseByteRange(out, m[0])
	if err != nil || br[0] != 0 || br[2]+br[3] != len(out) || br[2] <= br[1] || out[br[1]] != '<' || out[br[2]-1] != '>' {
		return nil, errors.New("pades: unexpected byte range")
	}
	h := sha256.New()
	h.Write(out[:br[1]])
	h.Write(out[br[2]:])
	cms, err := signCMS(h.Sum(nil), kp)
	if err != nil {
		return nil, err
	}
	slot := out[br[1]+1 : br[2]-1]
	if hex.EncodedLen(len(cms)) > len(slot) {
		return nil, fmt.Errorf("pades: signature of %d bytes does not fit its placeholder of %d", len(cms), len(slot)/2)
	}
	for j := range slot {
		slot[j] = '0'
	}
	hex.Encode(slot, cms)
	return out, nil
}

// signCMS returns a detached CMS SignedData (RFC 5652) over a document
// whose SHA-256 is digest, with the signed attributes content-type,
// message-digest and signing-certificate-v2 (RFC 5035), and the
// certificate with its chain.
func signCMS(digest []byte, kp *KeyPair) ([]byte, error) {
	var sigAlg asn1.ObjectIdentifier
	switch kp.Key.Public().(type) {
	case *ecdsa.PublicKey:
		sigAlg = oidECDSAWithSHA256
	case *rsa.PublicKey:
		sigAlg = oidSHA256WithRSA
	default:
		return nil, fmt.Errorf("pades: unsupported key type %T", kp.Key.Public())
	}
	certHash := sha256.Sum256(kp.Cert.Raw)
	attrs := [][]byte{
		attribute(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attribute(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attribute(oidSigningCertificateV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2, SHA-256 by default
						b.AddASN1OctetString(certHash[:])
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
								b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
									b.AddBytes(kp.Cert.RawIssuer) // directoryName
								})
							})
							b.AddASN1BigInt(kp.Cert.SerialNumber)
						})
					})
				})
			})
		}),
	}
	// DER orders the members of a SET OF by their encodings.
	slices.SortFunc(attrs, bytes.Compare)
	var signedAttrs cryptobyte.Builder
	signedAttrs.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	attrsDER, err := signedAttrs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pades: signed attributes: %w", err)
	}
	attrsHash := sha256.Sum256(attrsDER)
	sig, err := kp.Key.Sign(rand.Reader, attrsHash[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("pades: sign: %w", err)
	}
	sha256Alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
	}
	var ci cryptobyte.Builder
	ci.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, sha256Alg)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddBytes(kp.Cert.Raw)
					for _, c := range kp.Chain {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(kp.Cert.RawIssuer)
							b.AddASN1BigInt(kp.Cert.SerialNumber)
						})
						sha256Alg(b)
						// The signed attributes, [0] IMPLICIT instead of SET.
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							for _, a := range attrs {
								b.AddBytes(a)
							}
						})
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(sigAlg)
							if sigAlg.Equal(oidSHA256WithRSA) {
								b.AddASN1NULL()
							}
						})
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	der, err := ci.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pades: encode CMS: %w", err)
	}
	return der, nil
}

// attribute encodes a CMS Attribute with one value.
func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}
