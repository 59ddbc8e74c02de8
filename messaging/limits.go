package messaging

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
)

// Per-user limits on what sends mail to others: each new conversation
// notifies its participants, and each address new to Dialoog gets an
// account and an invitation. Replies are not limited (a notification goes
// out at most once per thread per 15 minutes anyway).
const (
	// NewThreadsExternal is how many conversations an external user may
	// start in an hour; they normally answer in the ones they have.
	NewThreadsExternal = 5
	// NewThreadsInternal is the same for internal users, who start
	// conversations as their work.
	NewThreadsInternal = 50
	// NewAddressesPerHour is how many addresses new to Dialoog an internal
	// user may write to or add to conversations in an hour.
	NewAddressesPerHour = 20

	limitWindow = time.Hour
)

func (s *Service) limiter() *auth.Limiter { return &auth.Limiter{DB: s.DB, Now: s.Now} }

// countNewThread counts a new conversation of sender in tx, refusing it
// over the hourly limit. The count rolls back with a conversation that is
// not started.
func (s *Service) countNewThread(ctx context.Context, tx bun.Tx, sender *db.User) error {
	limit, key := NewThreadsExternal, "message.new_threads_limit_external"
	if sender.Kind == db.KindInternal {
		limit, key = NewThreadsInternal, "message.new_threads_limit_internal"
	}
	return s.count(ctx, tx, "threads:user:", sender.ID, limit, key)
}

// countNewAddress counts an address new to Dialoog that sender invites.
func (s *Service) countNewAddress(ctx context.Context, tx bun.Tx, sender *db.User) error {
	return s.count(ctx, tx, newAddressKey, sender.ID, NewAddressesPerHour, newAddressesLimitKey)
}

// countNewAddresses counts n addresses new to Dialoog that sender invites
// at once, in one statement, and returns how many of them, the first
// ones, are within the hourly limit (n when all are). The caller refuses
// what is over it, and its transaction rolls the count back.
func (s *Service) countNewAddresses(ctx context.Context, tx bun.Tx, sender *db.User, n int) (int, error) {
	within, _, err := s.limiter().AllowManyIn(ctx, tx, newAddressKey+strconv.FormatInt(sender.ID, 10), n, NewAddressesPerHour, limitWindow)
	return within, err
}

const newAddressKey = "newaddr:user:"

const newAddressesLimitKey = "message.new_addresses_limit"

// newAddressesLimit is the refusal of an address new to Dialoog over
// NewAddressesPerHour, as count gives it.
func newAddressesLimit() error {
	return &apperr.Error{Code: apperr.TooMany, Key: newAddressesLimitKey, Field: "to"}
}

func (s *Service) count(ctx context.Context, tx bun.Tx, prefix string, userID int64, limit int, key string) error {
	ok, _, err := s.limiter().AllowIn(ctx, tx, prefix+strconv.FormatInt(userID, 10), limit, limitWindow)
	if err != nil {
		return err
	}
	if !ok {
		return &apperr.Error{Code: apperr.TooMany, Key: key, Field: "to"}
	}
	return nil
}
