package messaging

import "dialoog/db"

// InboxSQL is the SQL of one inbox page or search, with its arguments, for
// plan checks.
func (s *Service) InboxSQL(user *db.User, query string, page int) (string, []any) {
	if query == "" {
		return inboxPageQuery, []any{user.ID, PageSize + 1, (page - 1) * PageSize}
	}
	return s.searchQuery(s.DB, user, query, PageSize+1, (page-1)*PageSize).String(), nil
}

// UnreadSQL is the SQL of the header's unread count, for plan checks.
func (s *Service) UnreadSQL(userID int64) (string, []any) { return unreadQuery, []any{userID} }

// OtherNamesSQL is the SQL of the names on an inbox page, for plan checks.
func (s *Service) OtherNamesSQL(userID int64, threadIDs ...int64) (string, []any) {
	args := make([]any, 0, PageSize+2)
	for i := range PageSize + 1 {
		var id int64
		if i < len(threadIDs) {
			id = threadIDs[i]
		}
		args = append(args, id)
	}
	return otherNamesQuery, append(args, userID)
}
