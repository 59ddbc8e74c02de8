package messaging

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"

	"dialoog/identity"
)

// The pages of an inbox without search, of a team box and the team tabs
// are served from memory while the user's inbox version is unchanged. A
// request that has changed nothing since it read the user (GET /berichten)
// says so with WithInboxVersion, and a page read under a version is only
// ever served to a request that saw the same version, taken before the
// page was read.
//
// On SQLite the version lives in the users row, where triggers change it
// in the same transaction as anything such a page shows (migration 0037);
// the session's query reads it with the user. SQLite has one process
// writing its file, and one writer at a time, so the triggers cannot
// deadlock. On PostgreSQL, where several instances write at once, the
// triggers notify instead (migration 0040) and each instance keeps the
// versions in memory (db.InboxVersion): a page from memory there may be
// older than a change committed on another instance for as long as the
// change's notification takes to arrive, and a person's own changes on
// this instance give them a new version at once (Touched).

// inboxCacheSize bounds the pages kept: about 5 KB each.
const inboxCacheSize = 4096

type inboxKey struct {
	user, team int64
	page       int
	after      string // the page after this cursor ("": by its number)
	what       byte   // 'i' inbox, 't' team box, 'T' team tabs
}

type inboxEntry struct {
	version int64
	page    *InboxPage
	teams   []TeamInfo
}

// pageCopy is the entry's page for one caller: the page kept in memory is
// shared by every request that reads it, so callers get their own rows.
func (e inboxEntry) pageCopy() *InboxPage {
	out := *e.page
	out.Threads = slices.Clone(out.Threads)
	return &out
}

type inboxCache struct {
	once  sync.Once
	pages *lru.Cache[inboxKey, inboxEntry]
	// fromMemory and read count the pages that could come from memory
	// (metrics).
	fromMemory, read atomic.Uint64
}

func (c *inboxCache) get() *lru.Cache[inboxKey, inboxEntry] {
	c.once.Do(func() {
		var err error
		if c.pages, err = lru.New[inboxKey, inboxEntry](inboxCacheSize); err != nil {
			panic("messaging: inbox cache: " + err.Error())
		}
	})
	return c.pages
}

// verifyInboxCache: in test binaries every page served from memory is read
// again and compared (cachedPage); benchmarks turn it off.
var verifyInboxCache atomic.Bool

func init() { verifyInboxCache.Store(testing.Testing()) }

// CheckInboxCache turns the test binaries' check of pages served from
// memory on or off (benchmarks measure without it).
func CheckInboxCache(on bool) { verifyInboxCache.Store(on) }

type inboxVersionKey struct{}

type seenVersion struct {
	user, version int64
}

// WithInboxVersion tells the inbox reads of ctx that the request read the
// user's inbox version with the user (auth.Resolve does) and has changed
// nothing since, so that an unchanged page may come from memory.
func WithInboxVersion(ctx context.Context, userID, version int64) context.Context {
	return context.WithValue(ctx, inboxVersionKey{}, seenVersion{userID, version})
}

// seenInboxVersion is the version the request saw for userID, if it
// passed one: on PostgreSQL the version this instance knows now, before
// the page is read.
func (s *Service) seenInboxVersion(ctx context.Context, userID int64) (int64, bool) {
	v, ok := ctx.Value(inboxVersionKey{}).(seenVersion)
	if !ok || v.user != userID {
		return 0, false
	}
	if s.DB.Postgres() {
		return s.DB.InboxVersion(userID)
	}
	return v.version, true
}

// Touched gives the person a new inbox version on this instance at once,
// after a request of theirs that may have changed something: their next
// page must show it. On SQLite the version moved in the change's own
// transaction; on PostgreSQL the change's notification may not have
// arrived yet.
func (s *Service) Touched(who *identity.User) {
	if who != nil && s.DB.Postgres() {
		s.DB.InboxTouched(who.ID)
	}
}

// cachedPage returns the page under key when the request saw the version
// it was read under, and otherwise reads it with read and keeps it.
// Test binaries read it anyway and fail on a difference: every test that
// changes something and shows an inbox checks that the version followed.
func (s *Service) cachedPage(ctx context.Context, key inboxKey, read func() (inboxEntry, error)) (inboxEntry, error) {
	version, ok := s.seenInboxVersion(ctx, key.user)
	if !ok {
		s.inbox.read.Add(1)
		return read()
	}
	pages := s.inbox.get()
	if e, hit := pages.Get(key); hit && e.version == version {
		if verifyInboxCache.Load() && s.DB.Postgres() {
			// What is checked is that every change notifies, not how
			// soon the notification arrives.
			if err := s.DB.InboxSync(ctx); err != nil {
				return inboxEntry{}, err
			}
			if now, ok := s.DB.InboxVersion(key.user); !ok || now != version {
				return s.readPage(key, now, ok, read)
			}
		}
		if verifyInboxCache.Load() {
			fresh, err := read()
			if err != nil {
				return inboxEntry{}, err
			}
			if !reflect.DeepEqual(fresh.page, e.page) || !reflect.DeepEqual(fresh.teams, e.teams) {
				return inboxEntry{}, fmt.Errorf("inbox cache: the page of user %d (%c) changed without a new inbox version %d", key.user, key.what, version)
			}
		}
		s.inbox.fromMemory.Add(1)
		return e, nil
	}
	return s.readPage(key, version, true, read)
}

// readPage reads the page under key and keeps it under version, when known.
func (s *Service) readPage(key inboxKey, version int64, known bool, read func() (inboxEntry, error)) (inboxEntry, error) {
	s.inbox.read.Add(1)
	e, err := read()
	if err != nil || !known {
		return e, err
	}
	e.version = version
	s.inbox.get().Add(key, e)
	return e, nil
}

// InboxCacheStats are the inbox pages (without search), team boxes and team
// tabs this instance served from memory and read since it started, and on
// PostgreSQL whether it hears the notifications that pages from memory
// need (SQLite: always).
func (s *Service) InboxCacheStats() (fromMemory, read uint64, listening bool) {
	listening = !s.DB.Postgres() || s.DB.InboxListening()
	return s.inbox.fromMemory.Load(), s.inbox.read.Load(), listening
}
