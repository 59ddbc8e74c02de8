package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/branding"
	"dialoog/db"
)

// Branding is an organisation's house style: its name, the display name of
// its mail, its support text, its primary colour and its logo. Its admins
// change it in Beheer ("Organisatie"); every change is audited.
type Branding struct {
	DB  *db.DB
	Now func() time.Time
}

// OrgBrand is the house style of one organisation as pages and mail use it.
// Colour is "" or a valid #rrggbb that meets today's rules; LogoHash is "" without a logo.
type OrgBrand struct {
	OrgID       int64
	Name        string
	SenderName  string
	SupportText string
	Colour      string
	// StoredColour is the colour as stored when it fails today's rules
	// (stored before a rule was added) and Colour is its readable shade
	// (branding.Readable); "" otherwise. Beheer tells the admin.
	StoredColour string
	LogoType     string
	LogoHash     string
	// EvidenceLanguage is the language of the evidence page of the
	// organisation's sealed PDFs: EvidenceDutch or EvidenceEnglish.
	EvidenceLanguage string
}

// Languages of the evidence page of a sealed PDF.
const (
	EvidenceDutch   = "nl"
	EvidenceEnglish = "en"
)

// StylePath is the address of the organisation's stylesheet, "" when it
// has the default colour. The hash changes with the colour.
func (b OrgBrand) StylePath() string {
	if b.Colour == "" {
		return ""
	}
	return fmt.Sprintf("%s%d-%s.css", PathBranding, b.OrgID, branding.Hash([]byte(b.Colour)))
}

// LogoPath is the address of the organisation's logo, "" without one.
func (b OrgBrand) LogoPath() string {
	if b.LogoHash == "" {
		return ""
	}
	return fmt.Sprintf("%s%d-%s%s", PathBranding, b.OrgID, b.LogoHash, branding.Ext(b.LogoType))
}

// PathBranding is where stylesheets and logos are served.
const PathBranding = "/huisstijl/"

// BrandInput is the form of "Organisatie" as typed.
type BrandInput struct {
	Name, SenderName, SupportText, Colour string
	// EvidenceLanguage is EvidenceDutch, EvidenceEnglish or "" (Dutch).
	EvidenceLanguage string
}

type brandRow struct {
	bun.BaseModel `bun:"table:organisation_branding"`
	OrgID         int64 `bun:",pk"`
	SenderName    string
	SupportText   string
	Colour        string
	Logo          []byte
	LogoType      string
	LogoHash      string
	// EvidenceLanguage: migration 0033.
	EvidenceLanguage string `bun:",notnull"`
	UpdatedBy        *int64
	UpdatedAt        time.Time
}

// LoadBrand returns the house style of organisation orgID (the default
// style when it has none), in idb, which may be a transaction.
func LoadBrand(ctx context.Context, idb bun.IDB, orgID int64) (OrgBrand, error) {
	var org db.Organisation
	if err := idb.NewSelect().Model(&org).Where("id = ?", orgID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return OrgBrand{}, errNotFound
		}
		return OrgBrand{}, fmt.Errorf("load organisation: %w", err)
	}
	b := OrgBrand{OrgID: org.ID, Name: org.Name, EvidenceLanguage: EvidenceDutch}
	var row brandRow
	err := idb.NewSelect().Model(&row).ExcludeColumn("logo").Where("org_id = ?", orgID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return b, nil
	case err != nil:
		return OrgBrand{}, fmt.Errorf("load branding: %w", err)
	}
	b.SenderName, b.SupportText, b.LogoType, b.LogoHash = row.SenderName, row.SupportText, row.LogoType, row.LogoHash
	if row.EvidenceLanguage == EvidenceEnglish {
		b.EvidenceLanguage = EvidenceEnglish
	}
	// A colour stored before today's rules is shown as its readable shade.
	b.Colour = branding.Readable(row.Colour)
	if b.Colour != row.Colour && b.Colour != "" {
		b.StoredColour = row.Colour
	}
	return b, nil
}

// OfNewestInvitation returns the house style of the organisation whose
// invitation is the user's newest: the one a person signing up follows.
// ok is false when the user has no invitation.
func (s *Branding) OfNewestInvitation(ctx context.Context, userID int64) (b OrgBrand, ok bool, err error) {
	var orgIDs []int64
	if err := s.DB.NewSelect().Model((*db.Invitation)(nil)).Column("org_id").Where("user_id = ?", userID).
		OrderExpr("created_at DESC, id DESC").Limit(1).Scan(ctx, &orgIDs); err != nil {
		return OrgBrand{}, false, fmt.Errorf("newest invitation: %w", err)
	}
	if len(orgIDs) == 0 {
		return OrgBrand{}, false, nil
	}
	b, err = LoadBrand(ctx, s.DB, orgIDs[0])
	if err != nil {
		return OrgBrand{}, false, err
	}
	return b, true, nil
}

// SenderName returns the display name organisation orgID's mail goes out
// under, "" for the installation's own, in one statement in idb.
func SenderName(ctx context.Context, idb bun.IDB, orgID int64) (string, error) {
	var names []string
	if err := idb.NewSelect().Model((*brandRow)(nil)).Column("sender_name").Where("org_id = ?", orgID).Scan(ctx, &names); err != nil {
		return "", fmt.Errorf("load sender name: %w", err)
	}
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// Brand returns the house style of the admin's own organisation.
func (s *Branding) Brand(ctx context.Context, cur *Current) (OrgBrand, error) {
	org, err := orgOf(cur)
	if err != nil {
		return OrgBrand{}, err
	}
	return LoadBrand(ctx, s.DB, org)
}

// OfOrg returns the house style of organisation orgID, for pages and mail
// that belong to it.
func (s *Branding) OfOrg(ctx context.Context, orgID int64) (OrgBrand, error) {
	return LoadBrand(ctx, s.DB, orgID)
}

// Save stores name, sender name, support text and colour of the admin's
// organisation. Refused input is apperr Fields on "name", "sender",
// "support" and "colour"; nothing is stored then.
func (s *Branding) Save(ctx context.Context, cur *Current, in BrandInput, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	in.SenderName = strings.TrimSpace(in.SenderName)
	in.SupportText = strings.TrimSpace(strings.ReplaceAll(in.SupportText, "\r\n", "\n"))
	var errs apperr.Fields
	if k := branding.CheckName(in.Name); k != "" {
		errs = append(errs, apperr.Field("name", k))
	}
	if k := branding.CheckSenderName(in.SenderName); k != "" {
		errs = append(errs, apperr.Field("sender", k))
	}
	if k := branding.CheckSupportText(in.SupportText); k != "" {
		errs = append(errs, apperr.Field("support", k))
	}
	colour, k := branding.NormaliseColour(in.Colour)
	if k != "" {
		errs = append(errs, apperr.Field("colour", k))
	}
	switch in.EvidenceLanguage {
	case "":
		in.EvidenceLanguage = EvidenceDutch
	case EvidenceDutch, EvidenceEnglish:
	default:
		errs = append(errs, apperr.Field("evidence_language", "branding.evidence_language_invalid"))
	}
	if len(errs) > 0 {
		return errs
	}
	now := s.Now().UTC()
	taken := apperr.Fields{apperr.Field("name", "branding.name_taken")}
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Names are unique among the installation's organisations.
		exists, err := tx.NewSelect().Model((*db.Organisation)(nil)).Where("name = ? AND id <> ?", in.Name, org).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check organisation name: %w", err)
		}
		if exists {
			return taken
		}
		old, err := LoadBrand(ctx, tx, org)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*db.Organisation)(nil)).Set("name = ?", in.Name).Where("id = ?", org).Exec(ctx); err != nil {
			return fmt.Errorf("rename organisation: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO organisation_branding (org_id, sender_name, support_text, colour, evidence_language, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org_id) DO UPDATE SET sender_name = excluded.sender_name, support_text = excluded.support_text,
  colour = excluded.colour, evidence_language = excluded.evidence_language, updated_by = excluded.updated_by,
  updated_at = excluded.updated_at`,
			org, in.SenderName, in.SupportText, colour, in.EvidenceLanguage, cur.User.ID, now).Exec(ctx); err != nil {
			return fmt.Errorf("store branding: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.branding_changed",
			Detail: brandChange(old, in, colour), IP: ip, Now: now})
	})
	if db.IsUniqueViolation(err) {
		// Another organisation took the name at the same moment.
		err = taken
	}
	if err != nil {
		return fmt.Errorf("save branding: %w", err)
	}
	return nil
}

// brandChange is the audit detail of a change from old to in: the name
// and the sender name from what to what and whether the support text
// changed, when they did, and the colour and the evidence's language.
func brandChange(old OrgBrand, in BrandInput, colour string) string {
	var parts []string
	if old.Name != in.Name {
		parts = append(parts, fmt.Sprintf("name %q to %q", old.Name, in.Name))
	}
	if old.SenderName != in.SenderName {
		parts = append(parts, fmt.Sprintf("sender %q to %q", old.SenderName, in.SenderName))
	}
	if old.SupportText != in.SupportText {
		parts = append(parts, "support text changed")
	}
	parts = append(parts, "colour "+orDefault(colour), "evidence "+in.EvidenceLanguage)
	return strings.Join(parts, ", ")
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// SetLogo checks data by its content (branding.CheckLogo) and stores it
// as the logo of the admin's organisation. A refused file is apperr
// Fields on "logo".
func (s *Branding) SetLogo(ctx context.Context, cur *Current, data []byte, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	typ, k := branding.CheckLogo(data)
	if k != "" {
		return apperr.Fields{apperr.Field("logo", k)}
	}
	hash := branding.Hash(data)
	now := s.Now().UTC()
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO organisation_branding (org_id, logo, logo_type, logo_hash, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (org_id) DO UPDATE SET logo = excluded.logo, logo_type = excluded.logo_type, logo_hash = excluded.logo_hash,
  updated_by = excluded.updated_by, updated_at = excluded.updated_at`, org, data, typ, hash, cur.User.ID, now).Exec(ctx); err != nil {
			return fmt.Errorf("store logo: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.logo_changed",
			Detail: fmt.Sprintf("%s, %d bytes", typ, len(data)), IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("set logo: %w", err)
	}
	return nil
}

// RemoveLogo removes the logo of the admin's organisation.
func (s *Branding) RemoveLogo(ctx context.Context, cur *Current, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*brandRow)(nil)).Set("logo = NULL, logo_type = '', logo_hash = ''").
			Set("updated_by = ?, updated_at = ?", cur.User.ID, now).Where("org_id = ?", org).Exec(ctx); err != nil {
			return fmt.Errorf("remove logo: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.logo_removed", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("remove logo: %w", err)
	}
	return nil
}

// Logo returns the logo of organisation orgID when its hash is hash, with
// its content type; NotFound otherwise (an old address, no logo).
func (s *Branding) Logo(ctx context.Context, orgID int64, hash string) ([]byte, string, error) {
	var row brandRow
	err := s.DB.NewSelect().Model(&row).Column("logo", "logo_type", "logo_hash").Where("org_id = ?", orgID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, "", errNotFound
	case err != nil:
		return nil, "", fmt.Errorf("load logo: %w", err)
	}
	if row.LogoHash == "" || row.LogoHash != hash || len(row.Logo) == 0 {
		return nil, "", errNotFound
	}
	// Checked again on the way out: only a PNG or JPEG ever leaves.
	typ, k := branding.CheckLogo(row.Logo)
	if k != "" || typ != row.LogoType {
		return nil, "", errNotFound
	}
	return row.Logo, typ, nil
}

// SupportTexts returns the support texts of the organisations a user
// belongs to: an internal user's own, an external user's inviting ones
// (newest invitation first), without duplicates or empty ones.
func (s *Branding) SupportTexts(ctx context.Context, userID int64) ([]OrgSupport, error) {
	var rows []OrgSupport
	err := s.DB.NewRaw(`SELECT o.name AS name, b.support_text AS text FROM organisation_branding AS b
JOIN organisations AS o ON o.id = b.org_id
WHERE b.support_text <> '' AND (b.org_id IN (SELECT u.org_id FROM users AS u WHERE u.id = ? AND u.org_id IS NOT NULL)
  OR b.org_id IN (SELECT i.org_id FROM invitations AS i WHERE i.user_id = ?))
ORDER BY o.name`, userID, userID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("support texts: %w", err)
	}
	return rows, nil
}

// OrgSupport is the support text of one organisation.
type OrgSupport struct {
	Name string `bun:"name"`
	Text string `bun:"text"`
}
