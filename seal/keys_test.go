package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// issued returns a test CA and a seal certificate for key issued by it, as
// a trust service provider would issue one.
func issued(t *testing.T, key *rsa.PrivateKey) (ca, leaf *KeyPair) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Installatie", Organization: []string{"Installatie"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafCert, _ := x509.ParseCertificate(leafDER)
	return &KeyPair{Cert: caCert, Key: caKey}, &KeyPair{Cert: leafCert, Key: key}
}

// TestLoadKeyPair: the configured files may hold an RSA or ECDSA key in
// the usual PEM forms and the certificate with its chain; a key of
// another certificate is refused. A PDF sealed with an RSA key verifies.
func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ca, rsaKP := issued(t, rsaKey)
	certFile, keyFile := filepath.Join(dir, "seal.pem"), filepath.Join(dir, "seal.key")
	os.WriteFile(certFile, append(pemBlock("CERTIFICATE", rsaKP.Cert.Raw), pemBlock("CERTIFICATE", ca.Cert.Raw)...), 0o600)
	os.WriteFile(keyFile, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), 0o600)
	kp, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kp.Cert.Raw, rsaKP.Cert.Raw) || len(kp.Chain) != 1 || !bytes.Equal(kp.Chain[0].Raw, ca.Cert.Raw) {
		t.Fatal("certificate or chain not read")
	}
	_, sealed := sealForTest(t, kp)
	in, err := Inspect(sealed)
	if err != nil || !bytes.Equal(in.Signer.Raw, rsaKP.Cert.Raw) {
		t.Fatalf("RSA seal: %v", err)
	}

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKP, err := selfSigned("Installatie", ecKey, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeyPair(pemBlock("CERTIFICATE", ecKP.Cert.Raw), pemBlock("EC PRIVATE KEY", sec1)); err != nil {
		t.Fatalf("SEC 1 key: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeyPair(pemBlock("CERTIFICATE", ecKP.Cert.Raw), pemBlock("PRIVATE KEY", pkcs8)); err != nil {
		t.Fatalf("PKCS#8 key: %v", err)
	}
	if _, err := ParseKeyPair(pemBlock("CERTIFICATE", rsaKP.Cert.Raw), pemBlock("PRIVATE KEY", pkcs8)); err == nil {
		t.Fatal("a key of another certificate was accepted")
	}
	if _, err := ParseKeyPair([]byte("nothing"), pemBlock("PRIVATE KEY", pkcs8)); err == nil {
		t.Fatal("a file without a certificate was accepted")
	}
}
