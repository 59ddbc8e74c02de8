package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/usertext"
)

// "Mijn instellingen": what a person changes after the first visit, each a
// small form of its own, validated as in the first visit.

// Names are the person's details of "Deelnemerinstellingen".
type Names struct {
	Gender     string
	Initials   string
	FirstName  string
	NamePrefix string
	LastName   string
}

func (n *Names) validate() apperr.Fields {
	var errs apperr.Fields
	n.Gender = strings.TrimSpace(n.Gender)
	if n.Gender == "" {
		n.Gender = "unknown"
	}
	okGender := false
	for _, g := range Genders {
		okGender = okGender || g == n.Gender
	}
	if !okGender {
		errs = append(errs, apperr.Field("gender", "profile.gender_invalid"))
	}
	text := func(field string, v *string, required bool, maxLen int) {
		*v = strings.TrimSpace(*v)
		switch {
		case required && *v == "":
			errs = append(errs, apperr.Field(field, "profile.required"))
		case utf8.RuneCountInString(*v) > maxLen:
			errs = append(errs, apperr.FieldArgs(field, "profile.too_long", "Max", maxLen))
		case strings.ContainsAny(*v, "<>\x00"):
			errs = append(errs, apperr.Field(field, "profile.invalid_chars"))
		case usertext.Hidden(*v):
			// A direction override would make the name read
			// differently from what it is ("Jan\u202eSnesnaj").
			errs = append(errs, apperr.Field(field, "profile.hidden_chars"))
		}
	}
	text("initials", &n.Initials, true, 20)
	text("first_name", &n.FirstName, true, 100)
	text("name_prefix", &n.NamePrefix, false, 30)
	text("last_name", &n.LastName, true, 100)
	return errs
}

// Absence is the absence reply: on or off, its message and an optional
// range of Dutch dates (yyyy-mm-dd) in which it applies.
type Absence struct {
	Enabled bool
	Message string
	From    string
	Until   string
}

// maxAwayMessage is how long the absence reply may be, in characters.
const maxAwayMessage = 2000

// validate checks the absence reply as of now: switched on, its last day
// must not have passed in i18n.Zone (a reply that never answers is a
// typing error, most often the year).
func (ab *Absence) validate(now time.Time) (from, until bun.NullTime, errs apperr.Fields) {
	// A form sends a line break as CR LF; it is one character, as the
	// browser counts it.
	ab.Message = strings.TrimSpace(strings.ReplaceAll(ab.Message, "\r\n", "\n"))
	if ab.Enabled && ab.Message == "" {
		errs = append(errs, apperr.Field("away_message", "profile.away_message_required"))
	}
	if utf8.RuneCountInString(ab.Message) > maxAwayMessage {
		errs = append(errs, apperr.FieldArgs("away_message", "profile.too_long", "Max", maxAwayMessage))
	}
	parse := func(field, v string) bun.NullTime {
		if strings.TrimSpace(v) == "" {
			return bun.NullTime{}
		}
		t, ok := parseDay(v, time.UTC)
		if !ok {
			errs = append(errs, apperr.Field(field, "profile.date_invalid"))
			return bun.NullTime{}
		}
		return bun.NullTime{Time: t}
	}
	from, until = parse("away_from", ab.From), parse("away_until", ab.Until)
	if !from.IsZero() && !until.IsZero() && until.Before(from.Time) {
		errs = append(errs, apperr.Field("away_until", "profile.period_order"))
	} else if ab.Enabled && !until.IsZero() && !now.Before(localMidnight(until.Time, 1)) {
		errs = append(errs, apperr.Field("away_until", "profile.period_past"))
	}
	return from, until, errs
}

// settingsChange runs change for a person who finished the first visit, in
// a transaction with its audit row.
func (a *Accounts) settingsChange(ctx context.Context, cur *Current, kind, ip string, change func(ctx context.Context, tx bun.Tx, now time.Time) error) error {
	if err := requireStage(cur, StageDone); err != nil {
		return err
	}
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if err := change(ctx, tx, now); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: kind, IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return nil
}

// UpdateNames changes the person's details.
func (a *Accounts) UpdateNames(ctx context.Context, cur *Current, n Names, ip string) error {
	if errs := n.validate(); len(errs) > 0 {
		return errs
	}
	return a.settingsChange(ctx, cur, "profile.changed", ip, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		_, err := tx.NewUpdate().Model((*db.User)(nil)).
			Set("gender = ?", n.Gender).Set("initials = ?", n.Initials).Set("first_name = ?", n.FirstName).
			Set("name_prefix = ?", n.NamePrefix).Set("last_name = ?", n.LastName).Set("updated_at = ?", now).
			Where("id = ?", cur.User.ID).Exec(ctx)
		return err
	})
}

// SetAbsence switches the absence reply on or off, with its message and
// period. The message is kept when it is switched off, for next time.
// Editing a reply that is on and stays on (its message, its last day)
// keeps its absence period (AwaySince), so the conversations it answered
// are not answered again; a reply that was not on before starts a new one.
func (a *Accounts) SetAbsence(ctx context.Context, cur *Current, ab Absence, ip string) error {
	from, until, errs := ab.validate(a.Now())
	if len(errs) > 0 {
		return errs
	}
	return a.settingsChange(ctx, cur, "absence.changed", ip, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var old db.User
		if err := tx.NewSelect().Model(&old).Column("id", "status", "away_enabled", "away_sealed", "away_message", "away_from", "away_until").
			Where("id = ?", cur.User.ID).Scan(ctx); err != nil {
			return fmt.Errorf("load absence: %w", err)
		}
		q := tx.NewUpdate().Model((*db.User)(nil)).
			Set("away_enabled = ?", ab.Enabled).Set("away_sealed = ?", SealAway(a.Vault, cur.User.ID, ab.Message)).Set("away_message = ''").
			Set("away_from = ?", from).Set("away_until = ?", until).Set("updated_at = ?", now)
		stillOn := AwayOn(&old, now) && ab.Enabled && ab.Message != "" && awayWithin(old.Status, from.Time, until.Time, now)
		if !stillOn {
			q = q.Set("away_changed_at = ?", now)
		}
		_, err := q.Where("id = ?", cur.User.ID).Exec(ctx)
		return err
	})
}

// Languages are the languages a person can choose.
var Languages = []string{"nl", "en"}

// SetLanguage sets the language of the person's pages, mail and texts. Unlike
// the other settings it may change from the first step of the first visit on
// (the footer's language switch, so the texts and mails of the next steps
// follow it), but not by a session still waiting for its second factor.
func (a *Accounts) SetLanguage(ctx context.Context, cur *Current, lang, ip string) error {
	ok := false
	for _, l := range Languages {
		ok = ok || l == lang
	}
	if !ok {
		return apperr.Field("language", "settings.language_invalid")
	}
	if cur.NeedsSecondFactor {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("language = ?", lang).Set("updated_at = ?", now).
			Where("id = ?", cur.User.ID).Exec(ctx); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "language.changed", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("language.changed: %w", err)
	}
	return nil
}
