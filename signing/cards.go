package signing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/identity"
	"dialoog/messaging"
)

// SignerView is one signer on a request's card.
type SignerView struct {
	Name      string
	Status    string // Signer*
	DecidedAt time.Time
	Reason    string // a decline's reason, for every participant to see
	Me        bool
	Turn      bool // whose turn it is (an ordered request)
}

// Card is a request as a participant of its conversation sees it.
type Card struct {
	ID              int64
	ThreadID        int64
	DocumentName    string
	Pages           int
	SHA256          string
	InOrder         bool
	Deadline        time.Time
	Status          string // Status*
	RequesterName   string
	CreatedAt       time.Time
	Signers         []SignerView
	SealedMessageID int64
	// MayAct: the viewer is a signer whose turn it is on an open request;
	// Method is how they confirm (seal.MethodSMS or seal.MethodApp),
	// MaskedPhone where the text goes, CodeSentAt when the last code went.
	MayAct      bool
	Method      string
	MaskedPhone string
	CodeSentAt  time.Time
}

// Cards returns the requests of a conversation the user may read and
// whose message they received (receivedRule), oldest first.
func (s *Service) Cards(ctx context.Context, who *identity.User, threadID int64) ([]Card, error) {
	user := db.UserOf(who)
	if _, _, err := s.Messages.ThreadAccess(ctx, s.DB, user, threadID); err != nil {
		return nil, err
	}
	var rs []requestRow
	if err := s.cardsSelect(&rs, threadID, user.ID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load signing requests: %w", err)
	}
	return s.cards(ctx, user, rs)
}

// cardsSelect selects the requests of a conversation whose message the
// user received, oldest first: a range of signing_requests_thread_idx.
func (s *Service) cardsSelect(rs *[]requestRow, threadID, userID int64) *bun.SelectQuery {
	return s.DB.NewSelect().Model(rs).Where("thread_id = ?", threadID).Where(receivedRule, userID).Order("id")
}

// CardByID returns one request as the user sees it (NotFound unless they
// take part in its conversation).
func (s *Service) CardByID(ctx context.Context, who *identity.User, requestID int64) (*Card, error) {
	user := db.UserOf(who)
	r, _, err := s.access(ctx, s.DB, user, requestID)
	if err != nil {
		return nil, err
	}
	cs, err := s.cards(ctx, user, []requestRow{*r})
	if err != nil {
		return nil, err
	}
	return &cs[0], nil
}

func (s *Service) cards(ctx context.Context, user *db.User, rs []requestRow) ([]Card, error) {
	cs, err := s.cardsFor(ctx, []*db.User{user}, rs)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// cardsFor is cards for several viewers at once (the live cards of a
// request): the signers, their names, and the methods and code states of
// the viewers who may act are loaded in one statement each, whatever the
// number of viewers and signers. Viewer i's cards are out[i].
func (s *Service) cardsFor(ctx context.Context, viewers []*db.User, rs []requestRow) ([][]Card, error) {
	out := make([][]Card, len(viewers))
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rs))
	for i := range rs {
		ids[i] = rs[i].ID
	}
	signers, err := loadSigners(ctx, s.DB, ids...)
	if err != nil {
		return nil, err
	}
	byReq := map[int64][]signerRow{}
	var userIDs []int64
	for _, sg := range signers {
		byReq[sg.RequestID] = append(byReq[sg.RequestID], sg)
		if sg.UserID != nil {
			userIDs = append(userIDs, *sg.UserID)
		}
	}
	users := map[int64]*db.User{}
	if len(userIDs) > 0 {
		var us []db.User
		if err := s.DB.NewSelect().Model(&us).Where("id IN (?)", bun.In(userIDs)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("load signers' names: %w", err)
		}
		for i := range us {
			users[us[i].ID] = &us[i]
		}
	}
	// A viewer's turn to act: the method and the last code are filled in
	// below, for all of them at once.
	type turn struct {
		viewer, card int
		signerID     int64
	}
	var turns []turn
	now := s.Now().UTC()
	for k, user := range viewers {
		out[k] = make([]Card, len(rs))
		for i := range rs {
			r := &rs[i]
			name, err := s.Vault.Open(r.NameSealed, nameAD(r.ID))
			if err != nil {
				return nil, fmt.Errorf("open document name: %w", err)
			}
			c := Card{ID: r.ID, ThreadID: r.ThreadID, DocumentName: string(name), Pages: r.Pages, SHA256: r.SHA256, InOrder: r.InOrder,
				Deadline: r.Deadline.Time, Status: r.Status, RequesterName: r.RequesterName, CreatedAt: r.CreatedAt}
			if r.SealedMessageID != nil {
				c.SealedMessageID = *r.SealedMessageID
			}
			sgs := byReq[r.ID]
			next := current(sgs)
			// A request whose deadline passed is shown expired as RunDue
			// will mark it, and nobody may act on it any more.
			past := r.pastDeadline(now)
			if past {
				c.Status = StatusExpired
			}
			for j := range sgs {
				sg := &sgs[j]
				v := SignerView{Status: sg.Status, DecidedAt: sg.DecidedAt.Time, Turn: c.Status == StatusOpen && r.InOrder && sg == next}
				if past && sg.Status == SignerWaiting {
					v.Status = SignerExpired
				}
				switch u := userOf(sg, users); {
				case u != nil:
					v.Name = messaging.NameFor(user, u)
					v.Me = u.ID == user.ID
				case sg.EvidenceSealed != nil:
					// A signer who stopped with Dialoog: the name they
					// agreed under stays on the record.
					if p, err := s.openEvidence(sg); err == nil {
						v.Name = p.Name
					}
				}
				if sg.ReasonSealed != nil {
					reason, err := s.Vault.Open(sg.ReasonSealed, reasonAD(sg.ID))
					if err != nil {
						return nil, fmt.Errorf("open reason: %w", err)
					}
					v.Reason = string(reason)
				}
				if v.Me && v.Status == SignerWaiting && c.Status == StatusOpen && (!r.InOrder || sg == next) {
					c.MayAct = true
					turns = append(turns, turn{viewer: k, card: i, signerID: sg.ID})
				}
				c.Signers = append(c.Signers, v)
			}
			out[k][i] = c
		}
	}
	if len(turns) == 0 {
		return out, nil
	}
	actors := make([]int64, 0, len(turns))
	purposes := make([]string, 0, len(turns))
	for _, t := range turns {
		actors = append(actors, viewers[t.viewer].ID)
		purposes = append(purposes, purpose(t.signerID))
	}
	methods, err := s.methods(ctx, s.DB, actors)
	if err != nil {
		return nil, err
	}
	// The last code sent to each of them for their turn, newest first.
	var codes []db.OneTimeCode
	if err := s.DB.NewSelect().Model(&codes).Column("user_id", "purpose", "sent_at").
		Where("user_id IN (?) AND purpose IN (?) AND used_at IS NULL", bun.In(actors), bun.In(purposes)).
		Order("id DESC").Scan(ctx); err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("load code state: %w", err)
	}
	type codeOf struct {
		userID  int64
		purpose string
	}
	lastSent := map[codeOf]time.Time{}
	for _, c := range codes {
		if _, ok := lastSent[codeOf{c.UserID, c.Purpose}]; !ok {
			lastSent[codeOf{c.UserID, c.Purpose}] = c.SentAt
		}
	}
	for _, t := range turns {
		c := &out[t.viewer][t.card]
		id := viewers[t.viewer].ID
		if m, ok := methods[id]; ok {
			c.Method, c.MaskedPhone = m.Kind, m.MaskedPhone
		}
		c.CodeSentAt = lastSent[codeOf{id, purpose(t.signerID)}]
	}
	return out, nil
}

func userOf(sg *signerRow, users map[int64]*db.User) *db.User {
	if sg.UserID == nil {
		return nil
	}
	return users[*sg.UserID]
}

// LiveCard is a request's card as one live reader sees it.
type LiveCard struct {
	UserID   int64
	Name     string
	Language string
	Card     Card
}

// LiveCards returns the card of request requestID for each of userIDs who
// may see it (a participant of its conversation who may read it); anyone
// else is left out.
func (s *Service) LiveCards(ctx context.Context, requestID int64, userIDs []int64) ([]LiveCard, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var us []db.User
	if err := s.DB.NewSelect().Model(&us).Where("id IN (?)", bun.In(userIDs)).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load live readers: %w", err)
	}
	r, err := loadRequest(ctx, s.DB, requestID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Who may see it, for all of them at once: the check of access (the
	// conversation's, then the request's receivedRule) in a statement
	// each. Whoever may not (no longer a participant, the medical rule, a
	// newcomer without the history) is left out.
	ids := make([]int64, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	readers, err := s.Messages.Readers(ctx, s.DB, r.ThreadID, ids)
	if err != nil {
		return nil, err
	}
	if r.MessageID != nil && len(readers) > 0 {
		// receivedRule for all of them: who had the message in their box.
		var received []int64
		if err := s.DB.NewSelect().Table("message_states").Column("user_id").
			Where("message_id = ? AND user_id IN (?)", *r.MessageID, bun.In(readers)).Scan(ctx, &received); err != nil && !db.ErrNoRows(err) {
			return nil, fmt.Errorf("check signing request %d: %w", r.ID, err)
		}
		readers = received
	}
	may := make(map[int64]bool, len(readers))
	for _, id := range readers {
		may[id] = true
	}
	var viewers []*db.User
	for i := range us {
		if may[us[i].ID] {
			viewers = append(viewers, &us[i])
		}
	}
	cards, err := s.cardsFor(ctx, viewers, []requestRow{*r})
	if err != nil {
		return nil, err
	}
	out := make([]LiveCard, 0, len(viewers))
	for i, u := range viewers {
		out = append(out, LiveCard{UserID: u.ID, Name: messaging.DisplayName(u), Language: u.Language, Card: cards[i][0]})
	}
	return out, nil
}

// exportRequest is a request in the box export's data of a conversation.
type exportRequest struct {
	Document        string         `json:"document"`
	DocumentSHA256  string         `json:"document_sha256"`
	Pages           int            `json:"pages"`
	RequestedBy     string         `json:"requested_by"`
	RequestedAt     time.Time      `json:"requested_at"`
	Deadline        *time.Time     `json:"deadline,omitempty"`
	InOrder         bool           `json:"in_order"`
	Status          string         `json:"status"`
	Signers         []exportSigner `json:"signers"`
	SealedMessageID int64          `json:"sealed_message_id,omitempty"`
}

type exportSigner struct {
	Name      string     `json:"name"`
	Status    string     `json:"status"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

// ExportRequests is what the box export of who holds of the requests of
// the conversations threadIDs (messaging.Service.ExportSigning): each as
// its card shows it to them, without what only acting on it needs, by
// conversation; one without requests is left out. Access is checked for
// all of them at once (ThreadAccess's rule, then receivedRule), and the
// cards are loaded together (cardsFor): a fixed number of statements for
// a batch of the export, however many conversations it holds.
func (s *Service) ExportRequests(ctx context.Context, who *identity.User, threadIDs []int64) (map[int64]any, error) {
	user := db.UserOf(who)
	readable, err := s.Messages.ReadableThreads(ctx, s.DB, user, threadIDs)
	if err != nil || len(readable) == 0 {
		return nil, err
	}
	var rs []requestRow
	if err := s.DB.NewSelect().Model(&rs).Where("thread_id IN (?)", bun.In(readable)).Where(receivedRule, user.ID).
		Order("thread_id", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load signing requests: %w", err)
	}
	cards, err := s.cards(ctx, user, rs)
	if err != nil {
		return nil, err
	}
	at := messaging.ExportTime
	byThread := map[int64][]exportRequest{}
	for _, c := range cards {
		r := exportRequest{Document: c.DocumentName, DocumentSHA256: c.SHA256, Pages: c.Pages, RequestedBy: c.RequesterName,
			RequestedAt: c.CreatedAt.UTC(), Deadline: at(c.Deadline), InOrder: c.InOrder, Status: c.Status, SealedMessageID: c.SealedMessageID}
		for _, sg := range c.Signers {
			r.Signers = append(r.Signers, exportSigner{Name: sg.Name, Status: sg.Status, DecidedAt: at(sg.DecidedAt), Reason: sg.Reason})
		}
		byThread[c.ThreadID] = append(byThread[c.ThreadID], r)
	}
	out := make(map[int64]any, len(byThread))
	for id, rs := range byThread {
		out[id] = rs
	}
	return out, nil
}
