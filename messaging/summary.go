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

// summaryBatch is how many people one query of the summary run lists.
const summaryBatch = 100

// SummaryMail renders the daily summary: how many messages are unread and
// a link, nothing of the messages, their subjects, senders or
// organisations.
type SummaryMail interface {
	DailySummaryMail(lang string, unread int, link string) (notify.Mail, error)
}

// SendDailySummaries queues the daily summary for every active person who
// chose it and has unread messages, once per Dutch local day, from
// SummaryHour on. Each person is claimed by moving last_summary_at into
// today in the transaction that queues their mail, so that runs on several
// instances at once send one summary each. It returns how many it queued.
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
		var ids []int64
		err := s.DB.NewSelect().Model((*db.User)(nil)).Column("id").
			Where("notify = ?", auth.NotifyDaily).Where("status = ?", db.StatusActive).Where("unread_total > 0").
			Where("(last_summary_at IS NULL OR last_summary_at < ?)", today).
			OrderExpr("id").Limit(summaryBatch).Scan(ctx, &ids)
		if err != nil {
			return sent, fmt.Errorf("daily summaries: list: %w", err)
		}
		for _, id := range ids {
			ok, err := s.sendSummary(ctx, id, today, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
		if len(ids) < summaryBatch {
			break
		}
	}
	if sent > 0 {
		s.queued()
	}
	return sent, nil
}

// sendSummary claims one person for today's summary and queues it, in one
// transaction; ok is false when another run got there first or the person
// no longer qualifies (read everything, changed the setting, was disabled
// or deleted).
func (s *Service) sendSummary(ctx context.Context, userID int64, today, now time.Time) (ok bool, err error) {
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var u struct {
			Email       string
			Language    string
			UnreadTotal int
		}
		err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_summary_at = ?", now).
			Where("id = ?", userID).Where("notify = ?", auth.NotifyDaily).Where("status = ?", db.StatusActive).
			Where("unread_total > 0").Where("(last_summary_at IS NULL OR last_summary_at < ?)", today).
			Returning("email, language, unread_total").Scan(ctx, &u)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		mail, err := s.Summary.DailySummaryMail(u.Language, u.UnreadTotal, s.BaseURL+"/berichten")
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		mail.To = u.Email
		if _, err := s.Outbox.QueueMail(ctx, tx, mail); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("daily summary for user %d: %w", userID, err)
	}
	return ok, nil
}
