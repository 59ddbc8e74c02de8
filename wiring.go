package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/db"
	"dialoog/handlers"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/signing"
	"dialoog/vault"
)

// mailRenderer renders mail bodies with the components package for the
// services, which must not depend on templ.
type mailRenderer struct{}

func (mailRenderer) InvitationMail(lang, orgName, link, baseURL string) (notify.Mail, error) {
	return renderInvitationMail(components.InvitationMail{Lang: lang, OrgName: orgName, SignUpURL: link, LoginURL: baseURL})
}

// BrandedInvitationMail renders the invitation mail in the house style of
// the inviting organisation: its colour and logo.
func (mailRenderer) BrandedInvitationMail(lang string, b auth.OrgBrand, link, baseURL string) (notify.Mail, error) {
	return renderInvitationMail(components.BrandedInvitationMail(lang, b.Name, b.Colour, b.LogoPath(), link, baseURL))
}

func renderInvitationMail(v components.InvitationMail) (notify.Mail, error) {
	var html bytes.Buffer
	if err := components.InvitationMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, fmt.Errorf("render invitation mail: %w", err)
	}
	return notify.Mail{Subject: components.InvitationMailSubject(v), HTML: html.String(), Text: components.InvitationMailText(v)}, nil
}

func (mailRenderer) PasswordResetMail(lang, link string) (notify.Mail, error) {
	v := components.PasswordResetMail{Lang: lang, ResetURL: link}
	var html bytes.Buffer
	if err := components.PasswordResetMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, fmt.Errorf("render password-reset mail: %w", err)
	}
	return notify.Mail{Subject: components.PasswordResetMailSubject(v), HTML: html.String(), Text: components.PasswordResetMailText(v)}, nil
}

// NewMessageMail renders the content-free mail that tells an active user a
// message is waiting: who wrote and a link, nothing of the message.
func (mailRenderer) NewMessageMail(lang, from, link string) (notify.Mail, error) {
	v := components.NewMessageMail{Lang: lang, From: from, LoginURL: link}
	var html bytes.Buffer
	if err := components.NewMessageMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, fmt.Errorf("render new-message mail: %w", err)
	}
	return notify.Mail{Subject: components.NewMessageMailSubject(v), HTML: html.String(), Text: components.NewMessageMailText(v)}, nil
}

// SecurityMail renders the short mail after a change to an account's
// security (plain text: what, when, and what to do if it was not them).
func (mailRenderer) SecurityMail(lang string, event auth.SecurityEvent, at time.Time) (notify.Mail, error) {
	v := components.SecurityMail{Lang: lang, Event: string(event), At: at}
	return notify.Mail{Subject: components.SecurityMailSubject(v), Text: components.SecurityMailText(v)}, nil
}

// HelpdeskResetMail renders the mail with the link of a helpdesk reset
// (plain text; the code goes by phone).
func (mailRenderer) HelpdeskResetMail(lang, link string) (notify.Mail, error) {
	v := components.HelpdeskResetMail{Lang: lang, Link: link}
	return notify.Mail{Subject: components.HelpdeskResetMailSubject(v), Text: components.HelpdeskResetMailText(v)}, nil
}

// DailySummaryMail renders the daily summary: the number of unread
// messages and a link, nothing of the messages themselves.
func (mailRenderer) DailySummaryMail(lang string, unread int, link string) (notify.Mail, error) {
	v := components.DailySummaryMail{Lang: lang, Unread: unread, LoginURL: link}
	var html bytes.Buffer
	if err := components.DailySummaryMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, fmt.Errorf("render daily summary mail: %w", err)
	}
	return notify.Mail{Subject: components.DailySummaryMailSubject(v), HTML: html.String(), Text: components.DailySummaryMailText(v)}, nil
}

var (
	_ messaging.SummaryMail      = mailRenderer{}
	_ auth.SecurityMail          = mailRenderer{}
	_ auth.InvitationMail        = mailRenderer{}
	_ auth.PasswordResetMail     = mailRenderer{}
	_ messaging.NotificationMail = mailRenderer{}
)

// termsStore reads and publishes the terms of use for the handlers, which
// must not touch the database themselves.
type termsStore struct {
	db  *db.DB
	now func() time.Time
}

var _ handlers.Terms = termsStore{}

func (s termsStore) Current(ctx context.Context) (handlers.TermsVersion, error) {
	t, err := auth.CurrentTerms(ctx, s.db)
	if err != nil {
		return handlers.TermsVersion{}, err
	}
	return termsVersion(t), nil
}

func (s termsStore) Version(ctx context.Context, version int) (handlers.TermsVersion, error) {
	t, err := auth.TermsByVersion(ctx, s.db, version)
	if err != nil {
		return handlers.TermsVersion{}, err
	}
	return termsVersion(t), nil
}

func (s termsStore) Publish(ctx context.Context, cur *auth.Current, nl, en string) (handlers.TermsVersion, error) {
	t, err := auth.PublishTermsInBeheer(ctx, s.db, cur, nl, en, s.now)
	if err != nil {
		return handlers.TermsVersion{}, err
	}
	return termsVersion(t), nil
}

func (s termsStore) Shared(ctx context.Context) (bool, error) {
	return auth.TermsShared(ctx, s.db)
}

func termsVersion(t *db.TermsVersion) handlers.TermsVersion {
	return handlers.TermsVersion{ID: t.ID, Version: t.Version, NL: t.Body, EN: t.BodyEN, PublishedAt: t.PublishedAt}
}

// invitationsAdapter presents auth.Invitations in the handlers' terms.
type invitationsAdapter struct{ inv *auth.Invitations }

func (a invitationsAdapter) Check(ctx context.Context, token string) (handlers.InvitationInfo, error) {
	i, err := a.inv.Check(ctx, token)
	return handlers.InvitationInfo{Email: i.Email, OrgID: i.OrgID, OrgName: i.OrgName, Language: i.Language, ExpiresAt: i.ExpiresAt}, err
}

func (a invitationsAdapter) Accept(ctx context.Context, token, ip, userAgent, lang string) (string, string, error) {
	tok, stage, err := a.inv.AcceptIn(ctx, token, ip, userAgent, lang)
	return tok, string(stage), err
}

func (a invitationsAdapter) IsFor(ctx context.Context, token string, userID int64) (bool, error) {
	return a.inv.IsFor(ctx, token, userID)
}

func (a invitationsAdapter) RequestNewLink(ctx context.Context, email, ip, _ string) error {
	return a.inv.RequestNewLink(ctx, email, ip)
}

// devOutbox lists the dev outbox for /dev/outbox.
type devOutbox struct {
	db    *db.DB
	vault *vault.Vault
}

func (o devOutbox) List(ctx context.Context, limit int) ([]components.DevOutboxItem, error) {
	items, err := notify.DevItems(ctx, o.db, o.vault, limit)
	if err != nil {
		return nil, err
	}
	out := make([]components.DevOutboxItem, 0, len(items))
	for _, it := range items {
		v := components.DevOutboxItem{ID: it.ID, Channel: it.Channel, To: it.Recipient, Status: it.Status,
			CreatedAt: it.CreatedAt, SentAt: it.SentAt, Attempts: it.Attempts, LastError: it.LastError}
		if it.Mail != nil {
			v.Subject, v.HTML, v.Text = it.Mail.Subject, it.Mail.HTML, it.Mail.Text
		}
		if it.SMS != nil {
			v.Body = it.SMS.Body
		}
		out = append(out, v)
	}
	return out, nil
}

// SigningReminderMail renders the content-free reminder to a signer who has
// not acted two days before the deadline.
func (mailRenderer) SigningReminderMail(lang, link string) (notify.Mail, error) {
	subject, text := components.SigningMail(lang, components.SigningMailReminder, link)
	return notify.Mail{Subject: subject, Text: text}, nil
}

// SigningExpiredMail renders the notice to the requester that a request
// for agreement expired.
func (mailRenderer) SigningExpiredMail(lang, link string) (notify.Mail, error) {
	subject, text := components.SigningMail(lang, components.SigningMailExpired, link)
	return notify.Mail{Subject: subject, Text: text}, nil
}

// SigningLapsedMail renders the notice to the requester that a request for
// agreement lapsed: a signer it waited for stopped with Dialoog.
func (mailRenderer) SigningLapsedMail(lang, link string) (notify.Mail, error) {
	subject, text := components.SigningMail(lang, components.SigningMailLapsed, link)
	return notify.Mail{Subject: subject, Text: text}, nil
}

var _ signing.Mails = mailRenderer{}
