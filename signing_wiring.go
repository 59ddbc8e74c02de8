package main

import (
	"context"
	"time"

	"dialoog/components"
	"dialoog/handlers"
	"dialoog/notify"
	"dialoog/seal"
	"dialoog/signing"
)

// newSealer returns the sealer of Ondertekenen and its page counter:
// package seal's Store (the organisation's key, DIALOOG_SEAL_CERT and
// DIALOOG_SEAL_KEY or a self-signed one) and its PDF check. Without one
// Ondertekenen stays off: no "ter ondertekening" in the reply form, no
// routes.
func (a *app) newSealer(context.Context) (signing.Sealer, signing.PageCounter, error) {
	if a.seals == nil {
		return nil, nil, nil
	}
	return a.seals, seal.PageCount, nil
}

var _ signing.Sealer = (*seal.Store)(nil)

// openSigning wires Ondertekenen when a sealer is available.
func (a *app) openSigning(ctx context.Context) error {
	sealer, pages, err := a.newSealer(ctx)
	if err != nil || sealer == nil {
		return err
	}
	host := a.cfg.BaseURL.Hostname()
	a.signing = &signing.Service{
		DB: a.db, Vault: a.vault, Messages: a.messages, Outbox: notify.NewOutbox(a.vault).WithClock(a.messages.Now), Limiter: a.accounts.Limiter,
		Codes: a.accounts, Sealer: sealer, Pages: pages, Mail: mailRenderer{},
		CodeText: func(lang, code string) string { return components.SigningCodeText(lang, host, code) },
		BaseURL:  a.cfg.BaseURL.String(), Now: a.messages.Now, Log: a.log.With("component", "signing"), Queued: a.worker.Kick,
	}
	a.messages.AccountLeaving = a.signing.Leave
	a.messages.TeamLeaving = a.signing.LeaveTeam
	a.messages.ParticipantLeaving = a.signing.LeaveThread
	a.messages.CaseClosing = a.signing.CloseCase
	a.messages.ExportSigning = a.signing.ExportRequests
	return nil
}

// signingDeps is Ondertekenen for the handlers: nil (off) without a
// sealer, never a typed nil.
func (a *app) signingDeps() handlers.Signing {
	if a.signing == nil {
		return nil
	}
	return a.signing
}

// liveSigning is Ondertekenen for the live renderer, nil when off.
func (a *app) liveSigning() handlers.LiveSigning {
	if a.signing == nil {
		return nil
	}
	return a.signing
}

// signingEvery is how often reminders, expiries and unfinished seals of
// Ondertekenen are looked for.
const signingEvery = 5 * time.Minute

// runSigning runs signing's periodic job (reminders two days before a
// deadline, expiry after it, another try at sealing) at start and then
// every interval until ctx ends. Every instance runs it; each request is
// claimed by a conditional update in its own transaction.
func (a *app) runSigning(ctx context.Context, every time.Duration) {
	if a.signing == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := a.signing.RunDue(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("signing requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
