package messaging

import "dialoog/db"

// InboxSQL is the SQL of one inbox page, for plan checks.
func (s *Service) InboxSQL(user *db.User, query string, page int) string {
	return s.inboxQuery(s.DB, user, query, PageSize+1, (page-1)*PageSize).String()
}

// UnreadSQL is the SQL of the header's unread count, for plan checks.
func (s *Service) UnreadSQL(userID int64) string { return s.unreadQuery(userID).String() }
