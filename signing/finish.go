package signing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/messaging"
	"dialoog/seal"
)

// Finish seals a request that every signer agreed to and adds the sealed
// PDF to its conversation as a new message, in one transaction; a request
// already sealed (by another instance, or an earlier try) is left alone.
// The stored document must still be the one agreed to.
func (s *Service) Finish(ctx context.Context, requestID int64) error {
	r, err := loadRequest(ctx, s.DB, requestID)
	if err != nil {
		return err
	}
	if r.Status != StatusAgreed {
		return nil
	}
	ev, original, name, err := s.evidence(ctx, r)
	if err != nil {
		return err
	}
	sealed, err := s.Sealer.Seal(ctx, r.OrgID, original, ev)
	if err != nil {
		return fmt.Errorf("seal request %d: %w", r.ID, err)
	}
	doc, err := s.Messages.StoreDocument(ctx, "application/pdf", sealed)
	if err != nil {
		return err
	}
	var later []messaging.Event
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockRequest(ctx, tx, r.ID, s.Now().UTC())
		if err != nil {
			return err
		}
		if r.Status != StatusAgreed {
			return errAlreadyDone
		}
		line, err := s.Messages.PostDocumentTx(ctx, tx, r.ThreadID, r.RequestedBy, messaging.SystemSigned, sealedName(name), doc)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("status = ?", StatusSealed).Set("closed_at = ?", s.Now().UTC()).
			Set("sealed_message_id = ?", line.MessageID).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("mark request sealed: %w", err)
		}
		if err := auth.Audit(ctx, tx, auth.AuditEntry{Kind: "signing.sealed", Detail: requestDetail(r), Now: s.Now(), OrgID: &r.OrgID}); err != nil {
			return err
		}
		card, err := s.stageChange(ctx, tx, r)
		if err != nil {
			return err
		}
		more, err := s.Messages.StageEvents(ctx, tx, []messaging.Event{line})
		later = append(card, more...)
		return err
	})
	if err == errAlreadyDone {
		s.Messages.Discard(ctx, doc)
		return nil
	}
	if err != nil {
		s.Messages.Discard(ctx, doc)
		return fmt.Errorf("add sealed document of request %d: %w", requestID, err)
	}
	s.Messages.PublishEvents(ctx, later)
	return nil
}

var errAlreadyDone = apperr.New(apperr.Conflict, "signing.closed")

// sealedName is the sealed PDF's file name: "plan.pdf" becomes
// "plan-ondertekend.pdf" ("signed" is the same word in the evidence page
// of either language only in its meaning: the name stays Dutch, as the
// product is).
func sealedName(name string) string {
	if len(name) > 4 && (name[len(name)-4:] == ".pdf" || name[len(name)-4:] == ".PDF") {
		name = name[:len(name)-4]
	}
	return name + "-ondertekend.pdf"
}

// evidence builds the evidence page's contents of an agreed request and
// reads its original, which must still have the SHA-256 agreed to.
func (s *Service) evidence(ctx context.Context, r *requestRow) (seal.Evidence, []byte, string, error) {
	var ev seal.Evidence
	if r.AttachmentID == nil {
		return ev, nil, "", fmt.Errorf("request %d: document gone", r.ID)
	}
	var a db.Attachment
	if err := s.DB.NewSelect().Model(&a).Where("id = ?", *r.AttachmentID).Scan(ctx); err != nil {
		return ev, nil, "", fmt.Errorf("load document of request %d: %w", r.ID, err)
	}
	data, err := s.readAttachment(ctx, &a)
	if err != nil {
		return ev, nil, "", err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != r.SHA256 {
		return ev, nil, "", fmt.Errorf("request %d: document changed since the agreements", r.ID)
	}
	name, err := s.Vault.Open(r.NameSealed, nameAD(r.ID))
	if err != nil {
		return ev, nil, "", fmt.Errorf("open document name: %w", err)
	}
	org, err := auth.LoadBrand(ctx, s.DB, r.OrgID)
	if err != nil {
		return ev, nil, "", fmt.Errorf("load organisation: %w", err)
	}
	signers, err := loadSigners(ctx, s.DB, r.ID)
	if err != nil {
		return ev, nil, "", err
	}
	ev = seal.Evidence{Organisation: org.Name, DocumentName: string(name), SHA256: r.SHA256, Pages: r.Pages,
		RequestedBy: r.RequesterName, RequestedAt: r.CreatedAt, Language: org.EvidenceLanguage}
	for _, sg := range signers {
		p, err := s.openEvidence(&sg)
		if err != nil {
			return ev, nil, "", err
		}
		ev.Signatures = append(ev.Signatures, seal.Signature{Name: p.Name, Email: p.Email, Method: p.Method, MaskedPhone: p.MaskedPhone,
			At: p.At, IP: p.IP, UserAgent: p.UserAgent})
	}
	return ev, data, string(name), nil
}

func (s *Service) openEvidence(sg *signerRow) (*evidence, error) {
	if sg.EvidenceSealed == nil {
		return nil, fmt.Errorf("signer %d: no evidence", sg.ID)
	}
	plain, err := s.Vault.Open(sg.EvidenceSealed, proofAD(sg.ID))
	if err != nil {
		return nil, fmt.Errorf("open evidence of signer %d: %w", sg.ID, err)
	}
	var p evidence
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("decode evidence of signer %d: %w", sg.ID, err)
	}
	return &p, nil
}
