package components

// messageSender names who wrote a message, for the hidden part of its
// menu button ("Meer: acties voor het bericht van Jan"), so that the
// buttons of a conversation can be told apart by a screen reader.
func messageSender(m Meta, v MessageItem) string {
	if v.SenderDeleted || v.SenderName == "" {
		return m.T("thread.deleted_user")
	}
	return v.SenderName
}
