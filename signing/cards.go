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
	if len(rs) == 0 {
		return nil, nil
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
	now := s.Now().UTC()
	out := make([]Card, len(rs))
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
		turn := current(sgs)
		// A request whose deadline passed is shown expired as RunDue
		// will mark it, and nobody may act on it any more.
		past := r.pastDeadline(now)
		if past {
			c.Status = StatusExpired
		}
		for j := range sgs {
			sg := &sgs[j]
			v := SignerView{Status: sg.Status, DecidedAt: sg.DecidedAt.Time, Turn: c.Status == StatusOpen && r.InOrder && sg == turn}
			if past && sg.Status == SignerWaiting {
				v.Status = SignerExpired
			}
			switch u := userOf(sg, users); {
			case u != nil:
				v.Name = messaging.NameFor(user, u)
				v.Me = u.ID == user.ID
			case sg.EvidenceSealed != nil:
				// A signer who stopped with Dialoog: the name they agreed
				// under stays on the record.
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
			if v.Me && v.Status == SignerWaiting && c.Status == StatusOpen && (!r.InOrder || sg == turn) {
				c.MayAct = true
				m, err := s.method(ctx, s.DB, user.ID)
				if err == nil {
					c.Method, c.MaskedPhone = m.Kind, m.MaskedPhone
				}
				var last db.OneTimeCode
				err = s.DB.NewSelect().Model(&last).Column("sent_at").Where("user_id = ? AND purpose = ? AND used_at IS NULL", user.ID, purpose(sg.ID)).
					Order("id DESC").Limit(1).Scan(ctx)
				if err == nil {
					c.CodeSentAt = last.SentAt
				} else if !db.ErrNoRows(err) {
					return nil, fmt.Errorf("load code state: %w", err)
				}
			}
			c.Signers = append(c.Signers, v)
		}
		out[i] = c
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
	out := make([]LiveCard, 0, len(us))
	for i := range us {
		c, err := s.CardByID(ctx, us[i].Identity(), requestID)
		if err != nil {
			// Whoever may not see it (no longer a participant, or the
			// medical rule) is left out, whichever check said so: the
			// request's own or the conversation's.
			if apperr.CodeOf(err) == apperr.NotFound {
				continue
			}
			return nil, err
		}
		out = append(out, LiveCard{UserID: us[i].ID, Name: messaging.DisplayName(&us[i]), Language: us[i].Language, Card: *c})
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
// conversation threadID (messaging.Service.ExportSigning): each as its
// card shows it to them, without what only acting on it needs; nil when
// there are none.
func (s *Service) ExportRequests(ctx context.Context, who *identity.User, threadID int64) (any, error) {
	cards, err := s.Cards(ctx, who, threadID)
	if err != nil || len(cards) == 0 {
		return nil, err
	}
	at := messaging.ExportTime
	out := make([]exportRequest, len(cards))
	for i, c := range cards {
		r := exportRequest{Document: c.DocumentName, DocumentSHA256: c.SHA256, Pages: c.Pages, RequestedBy: c.RequesterName,
			RequestedAt: c.CreatedAt.UTC(), Deadline: at(c.Deadline), InOrder: c.InOrder, Status: c.Status, SealedMessageID: c.SealedMessageID}
		for _, sg := range c.Signers {
			r.Signers = append(r.Signers, exportSigner{Name: sg.Name, Status: sg.Status, DecidedAt: at(sg.DecidedAt), Reason: sg.Reason})
		}
		out[i] = r
	}
	return out, nil
}
