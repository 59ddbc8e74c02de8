package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/notify"
)

// SummaryHour is the Dutch local hour from which the daily summary of a
// day goes out.
const SummaryHour = 8

// summaryBatch is how many people one transaction of the summary run
// claims and queues mails for (one statement each, see notify.QueueMails).
const summaryBatch = 500

// SummaryMail renders the daily summary: how many messages are unread and
// a link, nothing of the messages, their subjects, senders or
// organisations.
type SummaryMail interface {
	DailySummaryMail(lang string, unread int, link string) (notify.Mail, error)
}

// SendDailySummaries queues the daily summary for every active person who
// chose it and has unread messages, once per Dutch local day, from
// SummaryHour on. People are claimed by moving last_summary_at into today
// in the transaction that queues their mails, summaryBatch at a time (a
// few statements a batch, not a transaction a person), so that runs on
// several instances at once send one summary each. It returns how many it
// queued.
func (s *Service) SendDailySummaries(ctx context.Context) (int, error) {
	if s.Summary == nil {
		return 0, errors.New("daily summaries: no mail renderer")
	}
	now := s.Now().UTC()
	local := now.In(i18n.Zone)
	if local.Hour() < SummaryHour {
		return 0, nil
	}
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, i18n.Zone).UTC()
	sent := 0
	for {
		n, more, err := s.sendSummaries(ctx, today, now)
		sent += n
		if err != nil {
			return sent, err
		}
		if !more {
			break
		}
	}
	if sent > 0 {
		s.queued()
	}
	return sent, nil
}

// summaryDue is who gets today's summary: an active person who chose it,
// has unread messages and got none today. Arguments: the setting, the
// status, the start of today.
const summaryDue = "notify = ? AND status = ? AND unread_total > 0 AND (last_summary_at IS NULL OR last_summary_at < ?)"

// sendSummaries claims up to summaryBatch people for today's summary and
// queues theirs, in one transaction; more is whether it claimed anyone
// (there may be more: a batch is full, or left out a person another
// transaction held). A person another run claimed first, or who
// no longer qualifies (read everything, changed the setting, was disabled
// or deleted), is not claimed: the claim checks summaryDue again, row by
// row, under the row's lock on PostgreSQL. A person whose row another
// transaction holds there is claimed by a later run.
func (s *Service) sendSummaries(ctx context.Context, today, now time.Time) (n int, more bool, err error) {
	// Who is due is read first, outside the transaction: after the
	// morning's summaries a run every five minutes finds nobody, and on
	// SQLite a transaction would hold the one writer while it looks.
	var candidates []int64
	if err := s.DB.NewSelect().Model((*db.User)(nil)).Column("id").Where(summaryDue, auth.NotifyDaily, db.StatusActive, today).
		OrderExpr("id").Limit(summaryBatch).Scan(ctx, &candidates); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("daily summaries: who is due: %w", err)
	}
	if len(candidates) == 0 {
		return 0, false, nil
	}
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, more = 0, false
		var us []struct {
			ID          int64
			Email       string
			Language    string
			UnreadTotal int
		}
		due := tx.NewSelect().Model((*db.User)(nil)).Column("id").Where("id IN (?)", bun.In(candidates)).
			Where(summaryDue, auth.NotifyDaily, db.StatusActive, today).OrderExpr("id")
		if s.DB.Postgres() {
			// The batch's rows are locked here, in id order, and one
			// that another transaction holds (a reply moving its unread
			// total) is left to the next run: waiting for it while
			// holding the others deadlocked with a holder that then
			// needed one of them (TestDailySummaryBesideALockedPerson).
			// (SQLite's writers take turns.)
			due = due.For("UPDATE SKIP LOCKED")
		}
		err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_summary_at = ?", now).
			Where("id IN (?)", due).Where(summaryDue, auth.NotifyDaily, db.StatusActive, today).
			Returning("id, email, language, unread_total").Scan(ctx, &us)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("claim: %w", err)
		}
		mails := make([]notify.Mail, 0, len(us))
		for _, u := range us {
			mail, err := s.Summary.DailySummaryMail(u.Language, u.UnreadTotal, s.BaseURL+"/berichten")
			if err != nil {
				return fmt.Errorf("render for user %d: %w", u.ID, err)
			}
			mail.To = u.Email
			mails = append(mails, mail)
		}
		if _, err := s.Outbox.QueueMails(ctx, tx, mails); err != nil {
			return err
		}
		n, more = len(us), len(us) > 0
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("daily summaries: %w", err)
	}
	return n, more, nil
}
