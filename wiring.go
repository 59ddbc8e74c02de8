package main

import (
	"bytes"
	"context"
	"fmt"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/db"
	"dialoog/handlers"
	"dialoog/notify"
	"dialoog/vault"
)

// mailRenderer renders mail bodies with the components package for the
// services, which must not depend on templ.
type mailRenderer struct{}

func (mailRenderer) InvitationMail(lang, orgName, link, baseURL string) (notify.Mail, error) {
	v := components.InvitationMail{Lang: lang, OrgName: orgName, SignUpURL: link, LoginURL: baseURL}
	var html bytes.Buffer
	if err := components.InvitationMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, fmt.Errorf("render invitation mail: %w", err)
	}
	return notify.Mail{Subject: components.InvitationMailSubject(v), HTML: html.String(), Text: components.InvitationMailText(v)}, nil
}

// invitationsAdapter presents auth.Invitations in the handlers' terms.
type invitationsAdapter struct{ inv *auth.Invitations }

func (a invitationsAdapter) Check(ctx context.Context, token string) (handlers.InvitationInfo, error) {
	i, err := a.inv.Check(ctx, token)
	return handlers.InvitationInfo{Email: i.Email, OrgName: i.OrgName, Language: i.Language, ExpiresAt: i.ExpiresAt}, err
}

func (a invitationsAdapter) Accept(ctx context.Context, token, ip, userAgent string) (string, string, error) {
	tok, stage, err := a.inv.Accept(ctx, token, ip, userAgent)
	return tok, string(stage), err
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
