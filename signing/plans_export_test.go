package signing

import (
	"github.com/uptrace/bun"

	"dialoog/db"
)

// CardsSQL is the SQL of a conversation's signing cards, with the loads of
// their signers and of the viewer's last code (the same statements as
// loadSigners and cards), for plan checks.
func (s *Service) CardsSQL(threadID, userID int64, requestIDs []int64) []string {
	var rs []requestRow
	var ss []signerRow
	var code db.OneTimeCode
	return []string{
		s.cardsSelect(&rs, threadID, userID).String(),
		s.DB.NewSelect().Model(&ss).Where("request_id IN (?)", bun.In(requestIDs)).Order("request_id", "position").String(),
		s.DB.NewSelect().Model(&code).Column("sent_at").Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose(requestIDs[0])).Order("id DESC").Limit(1).String(),
	}
}
