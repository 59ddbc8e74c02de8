package seal

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/vault"
)

// Config is how a Store seals.
type Config struct {
	// Configured is the installation-wide sealing certificate and key
	// (DIALOOG_SEAL_CERT, DIALOOG_SEAL_KEY); nil gives every organisation
	// a self-signed one of its own, made on first use.
	Configured *KeyPair
	// Now is the clock of the signature time; nil means time.Now.
	Now func() time.Time
}

// Store seals agreements with the organisations' keys and verifies sealed
// PDFs. It is safe for concurrent use, also by several instances sharing
// a database.
type Store struct {
	db    *db.DB
	vault *vault.Vault
	cfg   Config
	keys  sync.Map // org id -> *KeyPair, the stored ones opened once
}

// NewStore returns a Store over d, opening and sealing stored keys with v.
func NewStore(d *db.DB, v *vault.Vault, cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{db: d, vault: v, cfg: cfg}
}

// Seal returns original with the evidence page of ev appended and ev
// embedded, signed over the whole file with the key of the organisation
// orgID. ev.Pages and ev.SHA256 are filled in when empty; an ev.SHA256
// that is not original's is refused (apperr Invalid, "seal.error_hash"),
// as is an unreadable or encrypted original ("seal.error_not_pdf").
func (s *Store) Seal(ctx context.Context, orgID int64, original []byte, ev Evidence) ([]byte, error) {
	pages, err := Check(original)
	if err != nil {
		return nil, &apperr.Error{Code: apperr.Invalid, Key: "seal.error_not_pdf", Err: err}
	}
	sum := sha256.Sum256(original)
	hash := hex.EncodeToString(sum[:])
	switch {
	case ev.SHA256 == "":
		ev.SHA256 = hash
	case ev.SHA256 != hash:
		return nil, &apperr.Error{Code: apperr.Invalid, Key: "seal.error_hash",
			Err: fmt.Errorf("seal organisation %d: evidence is of %s, document is %s", orgID, ev.SHA256, hash)}
	}
	if ev.Pages == 0 {
		ev.Pages = pages
	}
	org, err := s.orgName(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if ev.Organisation == "" {
		ev.Organisation = org
	}
	kp, err := s.KeyPair(ctx, orgID)
	if err != nil {
		return nil, err
	}
	doc, err := Assemble(original, ev)
	if err != nil {
		return nil, fmt.Errorf("seal for organisation %d: %w", orgID, err)
	}
	out, err := Sign(doc, kp, ev.Organisation, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("seal for organisation %d: %w", orgID, err)
	}
	return out, nil
}

func (s *Store) orgName(ctx context.Context, orgID int64) (string, error) {
	var name string
	err := s.db.NewRaw("SELECT name FROM organisations WHERE id = ?", orgID).Scan(ctx, &name)
	if db.ErrNoRows(err) {
		return "", &apperr.Error{Code: apperr.NotFound, Key: "error.not_found", Err: fmt.Errorf("organisation %d", orgID)}
	}
	if err != nil {
		return "", fmt.Errorf("load organisation %d: %w", orgID, err)
	}
	return name, nil
}

// KeyPair returns the key that seals for organisation orgID: the
// configured one, or the organisation's own, generated and stored on first
// use. Two instances generating at once both end up with the one stored
// first.
func (s *Store) KeyPair(ctx context.Context, orgID int64) (*KeyPair, error) {
	if s.cfg.Configured != nil {
		return s.cfg.Configured, nil
	}
	if kp, ok := s.keys.Load(orgID); ok {
		return kp.(*KeyPair), nil
	}
	kp, err := s.loadKey(ctx, s.db, orgID)
	if db.ErrNoRows(err) {
		kp, err = s.createKey(ctx, orgID)
	}
	if err != nil {
		return nil, err
	}
	s.keys.Store(orgID, kp)
	return kp, nil
}

func keyAD(orgID int64) []byte {
	return []byte("organisation_seal_keys:" + strconv.FormatInt(orgID, 10))
}

// loadKey reads and opens the stored key of orgID; sql.ErrNoRows when the
// organisation has none yet.
func (s *Store) loadKey(ctx context.Context, idb bun.IDB, orgID int64) (*KeyPair, error) {
	var row struct {
		Cert      []byte `bun:"cert"`
		KeySealed []byte `bun:"key_sealed"`
	}
	err := idb.NewRaw("SELECT cert, key_sealed FROM organisation_seal_keys WHERE org_id = ?", orgID).Scan(ctx, &row)
	if err != nil {
		if db.ErrNoRows(err) {
			return nil, err
		}
		return nil, fmt.Errorf("load seal key of organisation %d: %w", orgID, err)
	}
	cert, err := x509.ParseCertificate(row.Cert)
	if err != nil {
		return nil, fmt.Errorf("parse seal certificate of organisation %d: %w", orgID, err)
	}
	der, err := s.vault.Open(row.KeySealed, keyAD(orgID))
	if err != nil {
		return nil, fmt.Errorf("open seal key of organisation %d: %w", orgID, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse seal key of organisation %d: %w", orgID, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok || !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, fmt.Errorf("seal key of organisation %d does not match its certificate", orgID)
	}
	return &KeyPair{Cert: cert, Key: signer}, nil
}

// createKey generates a P-256 key and its self-signed certificate for
// orgID and stores them unless another instance stored one first; it
// returns the stored one either way.
func (s *Store) createKey(ctx context.Context, orgID int64) (*KeyPair, error) {
	org, err := s.orgName(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	kp, err := SelfSigned(org, now)
	if err != nil {
		return nil, fmt.Errorf("seal certificate of organisation %d: %w", orgID, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(kp.Key)
	if err != nil {
		return nil, fmt.Errorf("encode seal key: %w", err)
	}
	sum := sha256.Sum256(kp.Cert.Raw)
	var stored *KeyPair
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO organisation_seal_keys (org_id, cert, cert_sha256, key_sealed, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING`,
			orgID, kp.Cert.Raw, hex.EncodeToString(sum[:]), s.vault.Seal(der, keyAD(orgID)), now.UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("store seal key of organisation %d: %w", orgID, err)
		}
		stored, err = s.loadKey(ctx, tx, orgID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// Problems with a PDF offered for verification.
const (
	ProblemNone     = ""
	ProblemNotPDF   = "not_pdf"  // not a readable PDF
	ProblemUnsigned = "unsigned" // no signature at all
	ProblemChanged  = "changed"  // signature does not match, or the file goes on after it
	ProblemForeign  = "foreign"  // a valid signature, but not by a Dialoog key
)

// Result is what Verify found. Sealed is the verdict: a valid signature
// over the whole file by one of Dialoog's certificates.
type Result struct {
	Sealed bool
	// SignatureValid: the last signature matches the bytes it covers;
	// WholeFile: those bytes are the whole file but the signature itself.
	SignatureValid bool
	WholeFile      bool
	// Dialoog: the certificate is the configured one or an
	// organisation's stored one; OrgID names the latter (0 for the
	// configured certificate).
	Dialoog bool
	OrgID   int64
	// Organisation is the name of the sealing organisation: the stored
	// key's organisation, or for the configured certificate the one the
	// signed evidence names.
	Organisation string
	// Certificate is the signer's certificate subject, for a foreign one.
	Certificate string
	Evidence    *Evidence
	Problem     string
}

// Verify checks a PDF offered as sealed by Dialoog. A refusal is a Result
// with Sealed false and a Problem, not an error; the error is for failures
// to look the certificate up.
func (s *Store) Verify(ctx context.Context, file []byte) (Result, error) {
	in, err := Inspect(file)
	switch {
	case errors.Is(err, ErrUnsigned):
		if _, cerr := Check(file); cerr != nil {
			return Result{Problem: ProblemNotPDF}, nil
		}
		return Result{Problem: ProblemUnsigned}, nil
	case errors.Is(err, ErrPartial):
		return Result{SignatureValid: false, Problem: ProblemChanged}, nil
	case err != nil:
		return Result{WholeFile: true, Problem: ProblemChanged}, nil
	}
	res := Result{SignatureValid: true, WholeFile: true, Evidence: in.Evidence, Certificate: in.Signer.Subject.String()}
	if c := s.cfg.Configured; c != nil && bytes.Equal(c.Cert.Raw, in.Signer.Raw) {
		res.Dialoog = true
		if in.Evidence != nil {
			res.Organisation = in.Evidence.Organisation
		}
	} else {
		sum := sha256.Sum256(in.Signer.Raw)
		var row struct {
			OrgID int64  `bun:"org_id"`
			Name  string `bun:"name"`
			Cert  []byte `bun:"cert"`
		}
		err := s.db.NewRaw(`SELECT k.org_id, o.name, k.cert FROM organisation_seal_keys AS k
			JOIN organisations AS o ON o.id = k.org_id WHERE k.cert_sha256 = ?`, hex.EncodeToString(sum[:])).Scan(ctx, &row)
		switch {
		case db.ErrNoRows(err):
		case err != nil:
			return Result{}, fmt.Errorf("look up seal certificate: %w", err)
		case bytes.Equal(row.Cert, in.Signer.Raw):
			res.Dialoog, res.OrgID, res.Organisation = true, row.OrgID, row.Name
		}
	}
	if !res.Dialoog {
		res.Problem = ProblemForeign
		return res, nil
	}
	res.Sealed = true
	return res, nil
}
